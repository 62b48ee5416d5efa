"""Ingest against its floor: `intake ingest` of N demandes, as the agent runs it.

The guarantee floor (`bench/guarantee_floor.py`): one bare process, its start included,
doing exactly what the guarantees need (XSD once in C while streaming, each PDF's size,
SHA-256 and PDFium check, AES-GCM sealing under a fresh wrapped data key, an HMAC-chained
audit event, `executemany` committed every 500 in WAL with synchronous=FULL): the yardstick
of issue 24. The older floor: lxml parsing plus XSD validation of the same feed, nothing
else. A second floor, "the bytes": read every PDF, SHA-256 it, AES-GCM it and write
it into a bare SQLite table in one transaction, the least any store of those bytes must do.
Project: the `intake ingest` command in a child process (its start included, as an agent
pays it), on SQLite and, when INTAKE_TEST_DATABASE_URL is set, on PostgreSQL; there also two
commands at once on two halves of the feeds (the multi-worker scale-out) against one
command taking both halves.

    python -m bench.ingest --count 20000 --pdf-kb 2
    python -m bench.ingest --count 10000 --pdf-kb 30

Each figure is measured once per round, the rounds one after the other, and the medians are
compared: a single run on this machine can be 15 % off in either direction.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
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


def guarantee_floor(feed: Path, database: Path) -> float:
    script = REPO / "bench" / "guarantee_floor.py"
    with timed() as running:
        done = subprocess.run(
            [sys.executable, str(script), str(feed), str(database)], capture_output=True
        )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return running.seconds


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


def _spread(seconds: list[float]) -> str:
    if len(seconds) == 1:
        return ""
    return f"  (de {min(seconds):.2f} à {max(seconds):.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--pdf-kb", type=float, default=2)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds, each measuring every figure in turn; medians are reported "
        "(this machine's speed drifts by 15 %% from one minute to the next)",
    )
    args = parser.parse_args()
    schema = FeedSchema()
    count, rounds = args.count, range(args.repeat)
    pg = os.environ.get("INTAKE_TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        feed = write_big_feed(folder / "depot", count, pdf_size=int(args.pdf_kb * 1000))
        size = sum(p.stat().st_size for p in (folder / "depot").iterdir()) / 1e6
        print(
            f"machine : {machine()} ; flux {feed.stat().st_size / 1e6:.1f} Mo, "
            f"PDF compris {size:.0f} Mo, {count} demandes ; "
            f"{args.repeat} tour(s), médianes"
        )
        half = count // 2
        halves = (  # only for the scale-out, on PostgreSQL
            (
                write_big_feed(folder / "a", half, pdf_size=int(args.pdf_kb * 1000)),
                write_big_feed(folder / "b", count - half, 1 + half, int(args.pdf_kb * 1000)),
            )
            if pg
            else None
        )
        series: dict[str, list[float]] = {}
        names: list[str] = []

        def fresh_pg(label: str) -> Path:
            assert pg
            name, url = postgres_schema(pg)
            names.append(name)
            return lieu(folder / label, url)

        try:
            for n in rounds:
                series.setdefault("floor", []).append(floor(feed, schema))
                series.setdefault("guarantees", []).append(
                    guarantee_floor(feed, folder / f"garanties-{n}.db")
                )
                series.setdefault("bytes", []).append(
                    bytes_floor(folder / "depot", folder / f"bytes-{n}.db")
                )
                config = lieu(folder / f"sqlite-{n}", f"sqlite:///{folder / f'i-{n}.db'}")
                series.setdefault("sqlite", []).append(command(config, feed))
                if pg and halves:
                    series.setdefault("pg", []).append(command(fresh_pg(f"pg-{n}"), feed))
                    one, two = side_by_side((fresh_pg(f"un-{n}"), fresh_pg(f"deux-{n}")), halves)
                    series.setdefault("one", []).append(one)
                    series.setdefault("two", []).append(two)
        finally:
            for name in names:
                drop_schema(pg or "", name)  # names only exist with pg

    median = {key: statistics.median(values) for key, values in series.items()}
    floor_rate = count / median["floor"]
    print(f"plancher (lxml + XSD)        : {median['floor']:7.2f} s  {floor_rate:8.0f} demandes/s"
          f"{_spread(series['floor'])}")  # fmt: skip
    print(f"plancher des octets          : {median['bytes']:7.2f} s  "
          f"{count / median['bytes']:8.0f} demandes/s{_spread(series['bytes'])}")  # fmt: skip
    guarantees = median["guarantees"]
    print(f"plancher des garanties       : {guarantees:7.2f} s  "
          f"{count / guarantees:8.0f} demandes/s{_spread(series['guarantees'])}")  # fmt: skip
    for key, name in (("sqlite", "SQLite"), ("pg", "PostgreSQL")):
        if key not in median:
            continue
        seconds = median[key]
        rate = count / seconds
        print(
            f"intake ingest, {name:14s}: {seconds:7.2f} s  {rate:8.0f} demandes/s"
            f"  ratio {guarantees / seconds:.2f} du plancher des garanties,"
            f" {rate / floor_rate:.3f} du plancher lxml+XSD,"
            f" {median['bytes'] / seconds:.2f} du plancher des octets"
            f"{_spread(series[key])}"
        )
    if "one" in median:
        gains = [one / two for one, two in zip(series["one"], series["two"], strict=True)]
        print(
            f"PostgreSQL, 1 commande (2 moitiés) : {median['one']:7.2f} s ;"
            f" 2 commandes à la fois : {median['two']:7.2f} s ;"
            f" gain {statistics.median(gains):.2f}× (de {min(gains):.2f} à {max(gains):.2f})"
        )


if __name__ == "__main__":
    main()
