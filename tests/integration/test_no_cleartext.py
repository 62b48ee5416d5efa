"""After ingesting, no byte of the database files spells a family's data."""

from __future__ import annotations

from pathlib import Path

from storage.db import make_engine, upgrade
from tests.support.feeds import PERSONAL, Dem, Resp, every_violation, numero, write_feed
from tests.support.lieu import make_ingestor


def database_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.glob("intake.db*")}


def test_database_files_hold_no_personal_data_in_clear(tmp_path, samples, vault, schema):
    folder = tmp_path / "db"
    engine = make_engine(f"sqlite:///{folder / 'intake.db'}")
    upgrade(engine)
    ingestor = make_ingestor(engine, vault, schema)
    list(ingestor.ingest_file(samples / "flux-69273-corbas.xml"))
    mixed = [
        *every_violation().values(),
        Dem(numero(1), responsables=[Resp(nom="Œlschläger", prenom="Vũ-Hoàng")]),
    ]
    list(ingestor.ingest_file(write_feed(tmp_path / "mixed", mixed)))

    open_files = database_bytes(folder)
    assert "intake.db-wal" in open_files  # the write-ahead log is checked while it exists
    # control: the scan does see clear columns (the numero is the pseudonymous handle)
    assert any(b"ME-2026-0000101" in content for content in open_files.values())
    engine.dispose()
    for name, content in [*open_files.items(), *database_bytes(folder).items()]:
        for personal in PERSONAL:
            for encoding in ("utf-8", "utf-16-le"):
                assert personal.encode(encoding) not in content, (name, personal)
