"""The guarantee floor: one bare process doing for a feed exactly what the guarantees need,
and nothing of the project's own (no intake import, no pool, no models, no ORM).

    python bench/guarantee_floor.py FLUX.xml BASE.db

- the whole feed validated against the XSD once, in C, while it is streamed (lxml's
  `iterparse` with the schema: hostile XML refused, no entities, no network);
- for each demande: its PDF read, its size and SHA-256 checked, opened by PDFium (an HTML page
  posing as a PDF is refused);
- record, XML and PDF sealed with a fresh AES-GCM data key, that key wrapped by a master key;
- an HMAC-chained audit event appended;
- the rows inserted by `executemany`, committed every 500 demandes, in WAL with
  `synchronous=FULL` (acknowledging only what is committed).

`bench/ingest.py` runs it as a child process, its start included, as the command is run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import sys
from pathlib import Path

import pypdfium2
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "flux-demandes-v1.xsd"
NS = "{urn:monenfant-intake:flux-demandes:1}"
GROUP = 500

TABLES = """
CREATE TABLE demande (numero TEXT PRIMARY KEY, commune TEXT, transmitted_at TEXT,
                      notified_at TEXT, status TEXT);
CREATE TABLE demande_key (numero TEXT PRIMARY KEY REFERENCES demande, wrapped BLOB);
CREATE TABLE demande_blob (numero TEXT REFERENCES demande, kind TEXT, sealed BLOB,
                           PRIMARY KEY (numero, kind));
CREATE TABLE audit_event (sequence INTEGER PRIMARY KEY, action TEXT, numero TEXT, link BLOB);
"""


def pdf_refusal(content: bytes, size: int, sha256: str) -> str | None:
    if len(content) != size:
        return "taille"
    if hashlib.sha256(content).hexdigest() != sha256:
        return "empreinte"
    if not content.startswith(b"%PDF-"):
        return "pas un PDF"
    try:
        document = pypdfium2.PdfDocument(content)
    except pypdfium2.PdfiumError:
        return "illisible"
    try:
        return None if len(document) >= 1 else "aucune page"
    finally:
        document.close()


def record(element: etree._Element) -> bytes:
    """The demande as a record: every leaf's text and attributes, by path."""
    values: dict[str, object] = dict(element.attrib)
    for leaf in element.iter():
        if len(leaf) == 0:
            name = leaf.tag.replace(NS, "")
            values.setdefault(name, []).append(  # type: ignore[union-attr]
                [leaf.text, dict(leaf.attrib)] if leaf.attrib else leaf.text
            )
    return json.dumps(values, ensure_ascii=False).encode()


def seal(key: bytes, numero: str, kind: str, plaintext: bytes) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, f"{numero}:{kind}".encode())


def main(feed: Path, database: Path) -> int:
    master, chain_key, link = os.urandom(32), os.urandom(32), b"\0" * 32
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.executescript(TABLES)
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    demandes: list[tuple[str, str, str, str | None, str]] = []
    keys: list[tuple[str, bytes]] = []
    blobs: list[tuple[str, str, bytes]] = []
    events: list[tuple[int, str, str, bytes]] = []
    sequence = held = 0

    def commit() -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany("INSERT INTO demande VALUES (?, ?, ?, ?, ?)", demandes)
        connection.executemany("INSERT INTO demande_key VALUES (?, ?)", keys)
        connection.executemany("INSERT INTO demande_blob VALUES (?, ?, ?)", blobs)
        connection.executemany("INSERT INTO audit_event VALUES (?, ?, ?, ?)", events)
        connection.execute("COMMIT")
        for rows in (demandes, keys, blobs, events):
            rows.clear()

    stream = etree.iterparse(
        str(feed), events=("end",), tag=f"{NS}demande", schema=schema,
        resolve_entities=False, no_network=True, huge_tree=True,
    )  # fmt: skip
    for _, element in stream:
        numero = element.get("numero")
        document = element.find(f"{NS}documentPdf")
        content = (feed.parent / document.get("nom")).read_bytes()
        if pdf_refusal(content, int(document.get("taille")), document.get("sha256")) is None:
            data_key = AESGCM.generate_key(bit_length=256)
            notified = element.findtext(f"{NS}dateNotification")
            commune = element.find(f"{NS}communeConcernee").get("codeInsee")
            transmitted = element.findtext(f"{NS}dateTransmission")
            demandes.append((numero, commune, transmitted, notified, "received"))
            keys.append((numero, seal(master, numero, "key", data_key)))
            blobs.append((numero, "record", seal(data_key, numero, "record", record(element))))
            blobs.append((numero, "xml", seal(data_key, numero, "xml", etree.tostring(element))))
            blobs.append((numero, "pdf", seal(data_key, numero, "pdf", content)))
            sequence += 1
            event = json.dumps([sequence, "retrieval", numero]).encode()
            link = hmac.new(chain_key, link + event, hashlib.sha256).digest()
            events.append((sequence, "retrieval", numero, link))
            held += 1
            if held % GROUP == 0:
                commit()
        element.clear()  # bounded memory: what is done is dropped
        while element.getprevious() is not None:
            del element.getparent()[0]
    commit()
    connection.close()
    print(held)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1]), Path(sys.argv[2])))
