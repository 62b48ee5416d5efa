"""The command's help is French everywhere, every option says what it is for, and every
command shows examples."""

from __future__ import annotations

import argparse

import pytest

from intake.cli import build_parser, main
from intake.cli.french_help import undescribed

ENGLISH = ("usage:", "positional arguments", "show this help", "error:", "required")


def parsers(parser: argparse.ArgumentParser, path: str = "intake"):  # type: ignore[no-untyped-def]
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, f"{path} {name}")


def test_every_help_is_french_and_complete():
    parser = build_parser()
    assert undescribed(parser) == []
    for path, sub in parsers(parser):
        text = sub.format_help()
        assert not [word for word in ENGLISH if word in text], path
        if path.count(" ") == 1:  # each command
            assert "exemples :" in text, path


def test_errors_are_french(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["show"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "arguments obligatoires manquants : NUMERO, --agent" in err
    assert "utilisation : intake show" in err


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("intake ")


def test_the_demo_names_the_command_as_the_newcomer_can_type_it(tmp_path, monkeypatch):
    from intake.cli.demo_cmds import typed

    script = tmp_path / ".venv" / "bin" / "intake"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert typed(str(script)) == ".venv/bin/intake"
    assert typed("/elsewhere/bin/intake") == "/elsewhere/bin/intake"
    monkeypatch.setenv("PATH", str(script.parent))  # an activated environment
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    assert typed(str(script)) == "intake"
