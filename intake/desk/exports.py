"""Exports for the lieu's own software: only a habilitated agent's communes, every demande
exported recorded in the audit trail with the file, cells that no spreadsheet runs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine

from intake.config import Config
from intake.context import Context
from intake.convention import deadlines
from intake.desk.access import authorize_audited
from intake.desk.export_table import COLUMNS, HEADERS, as_text, cells
from intake.desk.export_xlsx import workbook
from intake.feed.model import RECORD, Demande
from intake.files import RefusedFileError, write_private
from storage import audit
from storage import demandes as store
from storage.db import transaction
from storage.models import BlobKind, DemandeRow, Status
from storage.vault import Vault

EXPORT_WARNING = (
    "Attention : ce fichier contient des données personnelles. C’est la copie du lieu "
    "d’information, soumise aux mêmes obligations que la convention : usage limité au "
    "traitement des demandes, confidentialité, destruction au plus tard 6 mois après "
    "la transmission de chaque demande."
)

CSV_COLUMNS = HEADERS  # the CSV's and the XLSX's headers are the same
Format = Literal["csv", "json", "xlsx"]
Scope = Literal["depuis", "periode", "tout"]  # since the last export, a period, everything


@dataclass(frozen=True)
class Exported:
    demandes: int
    past_retention: int  # held past their purge day: left out, a purge is due


def _export_rows(
    engine: Engine, vault: Vault, communes: frozenset[str], today: date, selection: Selection
) -> tuple[list[tuple[DemandeRow, Demande]], int]:
    with transaction(engine) as session:
        rows = [
            r
            for r in store.listing(session, status=Status.RECEIVED, communes=communes)
            if (selection.since is None or (r.retrieved_at and r.retrieved_at >= selection.since))
            and (selection.until is None or (r.retrieved_at and r.retrieved_at < selection.until))
            and (selection.after is None or (r.retrieved_at and r.retrieved_at > selection.after))
            and (selection.commune is None or r.commune == selection.commune)
        ]
    readable = [r for r in rows if r.purge_due is None or today < r.purge_due]
    return list(_decrypted(engine, vault, readable)), len(rows) - len(readable)


def _decrypted(
    engine: Engine, vault: Vault, rows: list[DemandeRow]
) -> Iterator[tuple[DemandeRow, Demande]]:
    for row in rows:
        with transaction(engine) as session:
            record = store.read_secret(session, vault, row.numero, BlobKind.RECORD)
        if record is not None:
            yield row, RECORD.validate_json(record)


# What a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell no spreadsheet runs: one starting like a formula is marked as text with a
    leading apostrophe, which spreadsheets hide, so a phone number keeps its visible « + »."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class Selection:
    """Which demandes: retrieved in [since, until) and after `after`; all by default."""

    since: datetime | None = None
    until: datetime | None = None
    after: datetime | None = None  # « depuis la dernière exportation »: strictly after it
    commune: str | None = None  # one of the agent's communes only


@dataclass(frozen=True)
class Download:
    content: bytes
    name: str
    format: Format


@dataclass(frozen=True)
class Exports:
    """The demandes in full for the lieu's software: a habilitated person's communes only,
    each exported demande audited with its file."""

    config: Config
    engine: Engine
    vault: Vault

    def last(self, ctx: Context) -> datetime | None:
        """When this person last exported: « depuis la dernière exportation » starts there."""
        with transaction(self.engine) as session:
            return audit.last_event_at(session, actor=ctx.actor, action="export-fichier")

    def selection(
        self, ctx: Context, scope: Scope, first: date | None, last: date | None, commune: str | None
    ) -> Selection:
        if scope == "depuis":
            return Selection(after=self.last(ctx), commune=commune)
        if scope == "tout":
            return Selection(commune=commune)
        since, until = deadlines.day_range(first, last, self.config.timezone)
        return Selection(since=since, until=until, commune=commune)

    def write(
        self,
        ctx: Context,
        fmt: Format,
        write: Callable[[bytes], None],
        scope: Scope = "tout",
        first: date | None = None,
        last: date | None = None,
        commune: str | None = None,
    ) -> Exported:
        """The person's communes' demandes, written by `write` inside the transaction that
        records each of them in the audit trail: the file and its events stand or fall
        together."""
        engine, vault, config, now = self.engine, self.vault, self.config, ctx.now
        selection = self.selection(ctx, scope, first, last, commune)
        member = authorize_audited(engine, vault, config, ctx.actor, now, action="export")
        communes = config.staff_communes(member)
        today = deadlines.local_date(now, config.timezone)
        pairs, past_retention = _export_rows(engine, vault, communes, today, selection)
        with transaction(engine) as session:
            for row, _ in pairs:
                vault.trail.record(
                    session, at=now, actor=member.email, action="export", numero=row.numero,
                    detail={"format": fmt},
                )  # fmt: skip
            vault.trail.record(
                session, at=now, actor=member.email, action="export-fichier",
                detail={"format": fmt, "demandes": len(pairs)},
            )  # fmt: skip
            write(_content(fmt, pairs, config, now))
        return Exported(len(pairs), past_retention)

    def to_file(
        self, ctx: Context, fmt: Format, output: Path, first: date | None, commune: str | None
    ) -> Exported:
        """Into a file its owner alone can read (`intake export`), retrieved since `first`."""

        def write(content: bytes) -> None:
            try:
                write_private(output, content)
            except RefusedFileError:
                raise  # not ours to delete
            except BaseException:
                output.unlink(missing_ok=True)
                raise

        return self.write(ctx, fmt, write, "periode", first, None, commune)

    def download(
        self, ctx: Context, fmt: Format, scope: Scope, first: date | None, last: date | None
    ) -> Download:
        """The console's export: the file and its name."""
        written: list[bytes] = []
        self.write(ctx, fmt, written.append, scope, first, last)
        name = f"demandes-{ctx.now.astimezone(self.config.timezone):%Y-%m-%d-%H%M}.{fmt}"
        return Download(written[0], name, fmt)


def _content(
    fmt: str, pairs: list[tuple[DemandeRow, Demande]], config: Config, now: datetime
) -> bytes:
    tz = config.timezone
    if fmt in ("csv", "xlsx"):
        lines = [cells(row, d, config.commune_name(row.commune), tz) for row, d in pairs]
        if fmt == "xlsx":
            return workbook(COLUMNS, lines, now.astimezone(tz), "Demandes")
        stream = io.StringIO()
        writer = csv.writer(stream, delimiter=";")
        writer.writerow(CSV_COLUMNS)
        writer.writerows([safe_cell(as_text(value)) for value in line] for line in lines)
        return ("\ufeff" + stream.getvalue()).encode("utf-8")  # the BOM: Excel reads UTF-8
    documents = []
    for row, d in pairs:
        document = json.loads(RECORD.dump_json(d))
        document.update(
            retrieval_due=row.retrieval_due.isoformat() if row.retrieval_due else None,
            purge_due=row.purge_due.isoformat() if row.purge_due else None,
        )
        documents.append(document)
    return json.dumps(documents, ensure_ascii=False, indent=2).encode("utf-8")
