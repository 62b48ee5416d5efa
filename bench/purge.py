"""Destroying 100,000 demandes on SQLite, attestation (manifest, PDF) included.

The demandes are seeded straight into the database (not measured): a row, a wrapped key and
three ciphertexts each (record, XML, PDF) of realistic sizes. Floor: the same destruction
as bare SQL in one transaction (delete every ciphertext and key, mark every row), with the
same `secure_delete` zeroing (the keys only, as the purge) and the same WAL checkpoint; no
tombstone details, no audit events, no attestation.

    python -m bench.purge --count 100000 --pdf-kb 30
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
from datetime import timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import insert

from bench.common import NOW, machine, peak_rss_mib, timed
from intake import config as configuration
from intake.clock import FixedClock
from intake.convention import deadlines
from intake.retention import Retention
from storage.db import make_engine, transaction, upgrade
from storage.keystore import KeyStore
from storage.models import Attestation, BlobKind, DemandeBlob, DemandeKey, DemandeRow, Status
from storage.vault import Vault, generate_master_key_file, master_key_id, read_master_key_file
from tests.support.feeds import numero
from tests.support.lieu import PARIS

SEED_BATCH = 2000


def vault_of(config: configuration.Config) -> Vault:
    """The lieu's vault with its key store on disk (one file per purge day)."""
    master = read_master_key_file(config.key_file)
    return Vault(master, keys=KeyStore(master, master_key_id(master), config.keys_dir))


def seed(url: str, count: int, pdf_bytes: int, vault: Vault) -> None:
    """`count` demandes transmitted in May 2026: all due for destruction in November."""
    engine = make_engine(url)
    upgrade(engine)
    key = vault.new_data_key()
    pdf = os.urandom(pdf_bytes)
    record, xml = os.urandom(1_500), os.urandom(3_000)
    first = NOW - timedelta(days=200)
    for start in range(0, count, SEED_BATCH):
        rows, keys, blobs = [], [], []
        for i in range(start + 1, min(start + SEED_BATCH, count) + 1):
            transmitted = first + timedelta(minutes=i % 20_000)  # within May
            rows.append(
                {
                    "numero": numero(i),
                    "commune": "69273",
                    "status": Status.RECEIVED,
                    "transmitted_at": transmitted,
                    "retrieved_at": transmitted,
                    "retrieval_due": deadlines.retrieval_due(transmitted, 15, PARIS),
                    "purge_due": deadlines.purge_due(transmitted, PARIS),
                    "created_at": transmitted,
                    "updated_at": transmitted,
                }
            )
            due = deadlines.purge_due(transmitted, PARIS)
            keys.append(
                {
                    "numero": numero(i),
                    "wrapped_key": vault.wrap(key, numero(i), due),
                    "master_key_id": vault.key_id,
                    "key_date": due,
                }
            )
            for kind, data in ((BlobKind.RECORD, record), (BlobKind.XML, xml), (BlobKind.PDF, pdf)):
                blobs.append({"numero": numero(i), "kind": kind, "ciphertext": data})
        with transaction(engine) as session:
            session.execute(insert(DemandeRow), rows)
            session.execute(insert(DemandeKey), keys)
            session.execute(insert(DemandeBlob), blobs)
    engine.dispose()


def floor(path: Path) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "secure_delete=ON", "synchronous=FULL"):
        connection.execute(f"PRAGMA {pragma}")
    with timed() as reading:
        connection.execute("BEGIN IMMEDIATE")
        # Crypto-shredding's floor: the ciphertexts' pages freed, only the keys' zeroed.
        connection.execute("PRAGMA secure_delete=OFF")
        connection.execute("DELETE FROM demande_blob")
        connection.execute("PRAGMA secure_delete=ON")
        connection.execute("DELETE FROM demande_key")
        connection.execute(
            "UPDATE demande SET status = 'purged', purged_at = ?", (NOW.isoformat(),)
        )
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return reading.seconds


def lieu(folder: Path, url: str) -> configuration.Config:
    generate_master_key_file(folder / "secrets" / "master.key")
    text = resources.files("intake").joinpath("templates/intake.toml").read_text("utf-8")
    text = text.replace('url = "sqlite:///data/intake.db"', f'url = "{url}"')
    (folder / "intake.toml").write_text(text, encoding="utf-8")
    return configuration.load(folder / "intake.toml", {})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--pdf-kb", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'intake.db'}"
        print(f"machine : {machine()} ; {args.count} demandes, PDF de {args.pdf_kb} Ko")
        config = lieu(folder, url)
        vault = vault_of(config)
        seed(url, args.count, args.pdf_kb * 1000, vault)
        held = len(vault.keys.days())
        size = (folder / "intake.db").stat().st_size / 1e6
        print(f"base avant destruction : {size:.0f} Mo")
        shutil.copyfile(folder / "intake.db", folder / "floor.db")  # the same pages for both

        engine = make_engine(url)
        vault = vault_of(config)
        retention = Retention(config, engine, vault, FixedClock(NOW), actor="bench")
        with timed() as purging:
            outcome = retention.purge()
        assert outcome.purged == args.count, outcome
        assert not vault.keys.days(), "purge-day keys left"
        print(f"clés d'échéance détruites : {held} (fichiers du magasin de clés)")
        with transaction(engine) as session:
            pdf = session.get_one(Attestation, outcome.attestation).pdf
        engine.dispose()
        floor_s = floor(folder / "floor.db")
        print(
            f"destruction + attestation : intake {purging.seconds:6.2f} s ; "
            f"plancher (SQL nu) {floor_s:6.2f} s ; rapport {floor_s / purging.seconds:.2f}"
        )
        print(f"attestation : {len(pdf) / 1e6:.1f} Mo ; pic de mémoire {peak_rss_mib():.0f} Mio")


if __name__ == "__main__":
    main()
