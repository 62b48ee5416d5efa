"""Emails rendered from files with Jinja2: plain text, and an autoescaped HTML alternative."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("notifier", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> Rendered:
    """`template` names `<template>.subject.txt`, `<template>.txt` and `<template>.html`.
    `console`, the staff console's address, is optional: without it, emails give commands."""
    context.setdefault("console", None)
    environment = _environment()
    subject = " ".join(
        environment.get_template(f"{template}.subject.txt").render(**context).split()
    )
    return Rendered(
        subject=subject,
        text=environment.get_template(f"{template}.txt").render(**context),
        html=environment.get_template(f"{template}.html").render(title=subject, **context),
    )
