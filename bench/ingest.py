"""Ingest against its floor: N demandes with ~30 KB PDFs.

Floor: lxml parsing plus XSD validation of the same feed, nothing else (the issue's
definition). A second, informative floor, "the bytes": read every PDF, SHA-256 it,
AES-GCM it and write it into a bare SQLite table in one transaction, the least any store
of those bytes must do. Full: the worker's ingest (guard, streaming parse, XSD per demande,
rules, PDF checks, encryption, grouped transactions with their audit events, fsync).
Prints demandes/s of each and the ratios, on SQLite and, when INTAKE_TEST_DATABASE_URL is
set, on PostgreSQL.

    python -m bench.ingest --count 10000
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import tempfile
import uuid
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree
from sqlalchemy import text

from bench.common import machine, timed, write_big_feed
from intake.feed import FeedSchema
from intake.pipeline import Line, Result
from storage.db import make_engine, upgrade
from storage.vault import Vault
from tests.conftest import make_ingestor


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


def full(feed: Path, url: str, schema: FeedSchema, count: int, **engine_args: object) -> float:
    engine = make_engine(url, **engine_args)
    upgrade(engine)
    ingestor = make_ingestor(engine, Vault(os.urandom(32)), schema)  # Corbas, clock at NOW
    with timed() as reading:
        lines = [line for line in ingestor.ingest_file(feed) if isinstance(line, Line)]
    assert sum(line.result == Result.INGESTED for line in lines) == count, lines[:3]
    engine.dispose()
    return reading.seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    args = parser.parse_args()
    schema = FeedSchema()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        feed = write_big_feed(folder / "depot", args.count)
        size = sum(p.stat().st_size for p in (folder / "depot").iterdir()) / 1e6
        print(f"machine : {machine()} ; flux {feed.stat().st_size / 1e6:.1f} Mo, "
              f"PDF compris {size:.0f} Mo, {args.count} demandes")  # fmt: skip
        floor_s = floor(feed, schema)
        floor_rate = args.count / floor_s
        print(f"plancher (lxml + XSD)      : {floor_s:7.2f} s  {floor_rate:8.0f} demandes/s")
        bytes_s = bytes_floor(folder / "depot", folder / "bytes.db")
        print(
            f"plancher des octets        : {bytes_s:7.2f} s  {args.count / bytes_s:8.0f} demandes/s"
        )
        targets = [("SQLite", f"sqlite:///{folder / 'intake.db'}", {})]
        pg = os.environ.get("INTAKE_TEST_DATABASE_URL")
        if pg:
            schema_name = f"bench_{uuid.uuid4().hex[:8]}"
            admin = make_engine(pg)
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema_name}"'))
            options = {"connect_args": {"options": f"-csearch_path={schema_name}"}}
            targets.append(("PostgreSQL", pg, options))
        try:
            for name, url, extra in targets:
                seconds = full(feed, url, schema, args.count, **extra)
                rate = args.count / seconds
                print(f"ingestion complète {name:10s}: {seconds:7.2f} s  {rate:8.0f} demandes/s"
                      f"  ratio {rate / floor_rate:.4f} du plancher lxml+XSD,"
                      f" {bytes_s / seconds:.2f} du plancher des octets")  # fmt: skip
        finally:
            if pg:
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))


if __name__ == "__main__":
    main()
