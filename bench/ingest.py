"""Ingest against its floor: `intake ingest` of N demandes, as the agent runs it.

Floor: lxml parsing plus XSD validation of the same feed, nothing else (the issue's
definition). A second floor, "the bytes": read every PDF, SHA-256 it, AES-GCM it and write
it into a bare SQLite table in one transaction, the least any store of those bytes must do.
Project: the `intake ingest` command in a child process (its start included, as an agent
pays it), on SQLite and, when INTAKE_TEST_DATABASE_URL is set, on PostgreSQL; there also two
commands at once on two halves of the feeds (the multi-worker scale-out) against one
command taking both halves.

    python -m bench.ingest --count 20000 --pdf-kb 2
    python -m bench.ingest --count 10000 --pdf-kb 30
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree
from sqlalchemy import text

from bench.common import NOW, machine, timed, write_big_feed
from intake.feed import FeedSchema
from storage.db import make_engine

REPO = Path(__file__).resolve().parents[1]
# The command with its clock at NOW (the generated feeds pass every rule at that date).
LAUNCHER = REPO / "tests" / "e2e" / "launcher.py"


def floor(feed: Path, schema: FeedSchema) -> float:
    with timed() as reading:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        document = etree.parse(str(feed), parser)
        assert schema._lxml.validate(document), schema._lxml.error_log
    return reading.seconds


def bytes_floor(folder: Path, database: Path) -> float:
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE blob (name TEXT PRIMARY KEY, sha256 TEXT, data BLOB)")
    cipher = AESGCM(AESGCM.generate_key(bit_length=256))
    with timed() as writing:
        connection.execute("BEGIN IMMEDIATE")
        for pdf in sorted(folder.glob("*.pdf")):
            content = pdf.read_bytes()
            digest = hashlib.sha256(content).hexdigest()
            sealed = cipher.encrypt(os.urandom(12), content, pdf.name.encode())
            connection.execute("INSERT INTO blob VALUES (?, ?, ?)", (pdf.name, digest, sealed))
        connection.execute("COMMIT")
    connection.close()
    return writing.seconds


def lieu(folder: Path, url: str) -> Path:
    """A lieu made by `intake init`, its database at `url`."""
    subprocess.run(
        [sys.executable, "-m", "intake", "init", str(folder)], check=True, capture_output=True
    )
    config = folder / "intake.toml"
    text_ = config.read_text("utf-8")
    config.write_text(text_.replace('"sqlite:///data/intake.db"', f'"{url}"'), "utf-8")
    return config


def start(config: Path, *feeds: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "INTAKE_TEST_NOW": NOW.isoformat(), "PYTHONPATH": str(REPO)}
    command = [sys.executable, str(LAUNCHER), "-c", str(config), "ingest", *map(str, feeds)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen[bytes]) -> None:
    _, err = process.communicate()
    assert process.returncode == 0, err.decode()[-2000:]


def command(config: Path, *feeds: Path) -> float:
    with timed() as running:
        finish(start(config, *feeds))
    return running.seconds


def side_by_side(configs: tuple[Path, Path], halves: tuple[Path, Path]) -> tuple[float, float]:
    """One command taking both halves, then (on a fresh base) two commands, one half each."""
    one = command(configs[0], *halves)
    with timed() as running:
        both = [start(configs[1], half) for half in halves]
        for process in both:
            finish(process)
    return one, running.seconds


def postgres_schema(url: str) -> tuple[str, str]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with make_engine(url).begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    return name, f"{url}?options=-csearch_path%3D{name}"


def drop_schema(url: str, name: str) -> None:
    with make_engine(url).begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--pdf-kb", type=float, default=2)
    args = parser.parse_args()
    schema = FeedSchema()
    count = args.count
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        feed = write_big_feed(folder / "depot", count, pdf_size=int(args.pdf_kb * 1000))
        size = sum(p.stat().st_size for p in (folder / "depot").iterdir()) / 1e6
        print(f"machine : {machine()} ; flux {feed.stat().st_size / 1e6:.1f} Mo, "
              f"PDF compris {size:.0f} Mo, {count} demandes")  # fmt: skip
        floor_s = floor(feed, schema)
        floor_rate = count / floor_s
        print(f"plancher (lxml + XSD)        : {floor_s:7.2f} s  {floor_rate:8.0f} demandes/s")
        bytes_s = bytes_floor(folder / "depot", folder / "bytes.db")
        print(f"plancher des octets          : {bytes_s:7.2f} s  {count / bytes_s:8.0f} demandes/s")

        def report(name: str, seconds: float) -> None:
            rate = count / seconds
            print(f"intake ingest, {name:14s}: {seconds:7.2f} s  {rate:8.0f} demandes/s"
                  f"  ratio {rate / floor_rate:.3f} du plancher lxml+XSD,"
                  f" {bytes_s / seconds:.2f} du plancher des octets")  # fmt: skip

        report("SQLite", command(lieu(folder / "sqlite", f"sqlite:///{folder / 'i.db'}"), feed))
        pg = os.environ.get("INTAKE_TEST_DATABASE_URL")
        if not pg:
            return
        names: list[str] = []
        try:
            name, url = postgres_schema(pg)
            names.append(name)
            report("PostgreSQL", command(lieu(folder / "pg", url), feed))
            half = count // 2
            halves = (
                write_big_feed(folder / "a", half, pdf_size=int(args.pdf_kb * 1000)),
                write_big_feed(folder / "b", count - half, 1 + half, int(args.pdf_kb * 1000)),
            )
            configs = []
            for label in ("un", "deux"):
                name, url = postgres_schema(pg)
                names.append(name)
                configs.append(lieu(folder / f"pg-{label}", url))
            one, two = side_by_side((configs[0], configs[1]), halves)
            print(f"PostgreSQL, 1 commande (2 moitiés) : {one:7.2f} s ; 2 commandes à la fois :"
                  f" {two:7.2f} s ; gain {one / two:.2f}×")  # fmt: skip
        finally:
            for name in names:
                drop_schema(pg, name)


if __name__ == "__main__":
    main()
