"""Shared pieces of the benchmarks: generated feeds, a lieu, timing and memory readings.

Run by hand (never timed tests): `python -m bench.NAME --help` from the checkout, with the
project's virtual environment.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from fpdf import FPDF
from PIL import Image

from tests.support.feeds import Dem, feed_xml, numero

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the test feeds pass every rule at that date
PDF_SIZE = 30_000


@cache
def _scan(size: int) -> Image.Image:
    """Grey noise standing for a scanned form: images do not compress, as real scans."""
    side = int(size**0.5)
    return Image.frombytes("L", (side, side), os.urandom(side * side))


def padded_pdf(i: int, size: int = PDF_SIZE) -> bytes:
    """A real one-page PDF of about `size` bytes, different for each demande: its numero in
    the text, a scanned-looking image for the bulk."""
    document = FPDF()
    document.set_creator("intake bench")
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(0, 10, f"Demande de mode d'accueil {numero(i)}")
    document.image(_scan(size - 1_000), x=20, y=30, w=120)
    return bytes(document.output())


def write_big_feed(folder: Path, count: int, start: int = 1, pdf_size: int = PDF_SIZE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    demandes = []
    for i in range(start, start + count):
        pdf = padded_pdf(i, pdf_size)
        (folder / f"{numero(i)}.pdf").write_bytes(pdf)
        demandes.append(Dem(numero(i), pdf=pdf))
    path = folder / "flux.xml"
    path.write_text(feed_xml(demandes), encoding="utf-8")
    return path


@dataclass
class Reading:
    seconds: float = 0.0


@contextmanager
def timed() -> Iterator[Reading]:
    reading = Reading()
    began = time.perf_counter()
    try:
        yield reading
    finally:
        reading.seconds = time.perf_counter() - began


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> str:
    return f"{os.cpu_count()} cœurs, {os.uname().machine}, {os.uname().release}"
