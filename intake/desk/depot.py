"""Feeds an agent downloaded by hand and uploads in the console (`/depot`): the XML and its
PDFs, as several files or one zip, taken in exactly as `intake ingest … --agent` takes them.

The files are written to a private temporary folder (0700, files 0600), ingested from there by
the same `Ingestor` as the command, under the agent's name (so every demande stored, held or
refused is the same audit event), and the folder is deleted before the answer leaves, whatever
happened. A feed naming a commune the agent is not habilitated for is refused whole, before
anything of it is stored (the refusal is audited). A zip is read with care: plain names only
(no path, no `..`), a bounded number of entries, and sizes counted while decompressing, never
trusted from the archive's headers, so that no zip bomb fills the disk or the memory.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, BinaryIO

from intake.desk.access import AccessDenied, authorize_audited
from intake.errors import IntakeError
from intake.feed import Accepted, FeedHeader, Refused, RuleContext, read_feed
from intake.feed.model import DocumentPdf
from intake.feed.pdf import PdfMissingError
from intake.pipeline.writes import Line, Result

if TYPE_CHECKING:
    from intake.wiring import Parts

MAX_DEPOT = 50 * 1024 * 1024  # all the files of one upload, once unpacked
MAX_FILES = 500  # a feed and its PDFs: a few dozen in practice
_CHUNK = 1024 * 1024
_NAME = re.compile(r"[^\x00-\x1f\x7f/\\]{1,200}")
_ZIP_MAGIC = b"PK\x03\x04"


class DepotRefused(IntakeError):
    """The whole upload refused, in French: nothing of it was stored."""


@dataclass(frozen=True)
class FileReport:
    """What became of one XML file of the upload."""

    name: str
    commune: str | None = None
    commune_name: str | None = None
    refused: str | None = None  # the whole file refused, and why
    warning: str | None = None
    lines: tuple[Line, ...] = ()


@dataclass
class Deposit:
    files: list[FileReport] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # neither XML nor PDF

    def count(self, result: Result | str) -> int:
        wanted = Result(result)
        return sum(1 for f in self.files for line in f.lines if line.result == wanted)

    @property
    def refused_files(self) -> int:
        return sum(1 for f in self.files if f.refused)


class _NoPdf:
    """The communes' check reads the XML only: no PDF is ever asked for there."""

    def fetch(self, document: DocumentPdf, numero: str) -> bytes:
        raise PdfMissingError(document.nom)


def deposit(app: Parts, agent: str, uploads: Sequence[tuple[str, BinaryIO]]) -> Deposit:
    """Ingest the uploaded feeds for `agent` (a member of [[staff]], signed in)."""
    member = authorize_audited(
        app.engine, app.vault, app.config, agent, app.clock.now(), action="depot"
    )  # a person of [[staff]], habilitated today
    with _private_folder() as folder:
        names = _unpack(uploads, folder)
        feeds = sorted(n for n in names if n.casefold().endswith(".xml"))
        if not feeds:
            raise DepotRefused(
                "aucun fichier XML de flux dans le dépôt : déposez le fichier .xml téléchargé "
                "sur l'extranet, avec ses PDF (ou une archive .zip qui les contient)"
            )
        result = Deposit(
            ignored=sorted(n for n in names if not n.casefold().endswith((".xml", ".pdf")))
        )
        ingestor = app.ingestor(member.email)
        for name in feeds:
            path = folder / name
            refusal, header = _communes_refusal(app, member.email, path)
            commune = header.commune if header else None
            report = FileReport(
                name,
                commune,
                app.config.commune_name(commune) if commune else None,
                refused=refusal,
                warning=_lieu_warning(app, header),
            )
            if refusal is None:
                lines = [ln for ln in ingestor.ingest_file(path) if isinstance(ln, Line)]
                report = FileReport(**{**report.__dict__, "lines": tuple(lines)})
            result.files.append(report)
    return result


def _lieu_warning(app: Parts, header: FeedHeader | None) -> str | None:
    if header is None or header.lieu_id == app.config.lieu.id:
        return None
    return f"ce flux est adressé au lieu {header.lieu_id}, pas à {app.config.lieu.id}"


def _communes_refusal(app: Parts, agent: str, path: Path) -> tuple[str | None, FeedHeader | None]:
    """Why the agent may not take this feed in (a commune they do not hold), or None."""
    config = app.config
    ctx = RuleContext(config.commune_codes, config.timezone, app.clock.now())
    header: FeedHeader | None = None
    communes: set[str] = set()
    for outcome in read_feed(path, schema=app.schema, ctx=ctx, pdfs=_NoPdf()):
        if isinstance(outcome, FeedHeader):
            header = outcome
            communes.add(outcome.commune)
        elif isinstance(outcome, Accepted | Refused) and outcome.commune:
            communes.add(outcome.commune)
    member = config.staff_member(agent)
    held = config.staff_communes(member) if member else frozenset()
    # A commune outside the convention is the feed's rule to refuse (and to record), as for
    # the command: only the convention's communes the agent does not hold stop the file.
    for commune in sorted((communes & config.commune_codes) - held):
        try:
            authorize_audited(
                app.engine,
                app.vault,
                config,
                agent,
                app.clock.now(),
                commune=commune,
                action="depot",
            )
        except AccessDenied:
            return (
                f"vous n'êtes pas habilité(e) pour la commune {commune} "
                f"({config.commune_name(commune)}) : rien de ce flux n'est intégré",
                header,
            )
    return None, header


@contextmanager
def _private_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="intake-depot-"))  # 0700, this account's only
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _unpack(uploads: Sequence[tuple[str, BinaryIO]], folder: Path) -> list[str]:
    if not uploads:
        raise DepotRefused("aucun fichier reçu : choisissez le flux XML et ses PDF")
    if len(uploads) > MAX_FILES:
        raise DepotRefused(f"trop de fichiers : {MAX_FILES} au plus par dépôt")
    budget = _Budget()
    if len(uploads) == 1 and _is_zip(*uploads[0]):
        return _unzip(uploads[0][1], folder, budget)
    names: list[str] = []
    for name, stream in uploads:
        if _is_zip(name, stream):
            raise DepotRefused("une archive .zip se dépose seule, sans autre fichier")
        names.append(_write(folder, _plain(name), stream, budget))
    return names


def _is_zip(name: str, stream: BinaryIO) -> bool:
    start = stream.read(4)
    stream.seek(0)
    return start == _ZIP_MAGIC or name.casefold().endswith(".zip")


def _plain(name: str) -> str:
    """A plain file name: no folder, no `..`, nothing hidden, no control character."""
    if not _NAME.fullmatch(name) or name.startswith(".") or name in ("..",):
        shown = name if _NAME.fullmatch(name.replace("/", "").replace("\\", "")) else "?"
        raise DepotRefused(
            f"nom de fichier refusé : « {shown[:80]} » ; un nom simple est attendu, sans "
            "dossier ni chemin"
        )
    return name


@dataclass
class _Budget:
    left: int = MAX_DEPOT

    def take(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise DepotRefused(
                f"dépôt trop volumineux : {MAX_DEPOT // (1024 * 1024)} Mo au plus une fois les "
                "fichiers décompressés"
            )


def _write(folder: Path, name: str, stream: IO[bytes], budget: _Budget) -> str:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        descriptor = os.open(folder / name, flags, 0o600)
    except FileExistsError:
        raise DepotRefused(f"le fichier « {name} » figure deux fois dans le dépôt") from None
    with open(descriptor, "wb", closefd=True) as out:
        while chunk := stream.read(_CHUNK):
            budget.take(len(chunk))  # counted as read: never what a header claims
            out.write(chunk)
    return name


def _unzip(stream: BinaryIO, folder: Path, budget: _Budget) -> list[str]:
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise DepotRefused("archive .zip illisible ou abîmée") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_FILES:
            raise DepotRefused(f"archive refusée : plus de {MAX_FILES} fichiers")
        names = []
        for entry in entries:
            if entry.is_dir() or "/" in entry.filename or "\\" in entry.filename:
                raise DepotRefused(
                    "archive refusée : elle contient des dossiers ou des chemins ; mettez le "
                    "flux XML et ses PDF directement dans l'archive"
                )
            if entry.flag_bits & 0x1:
                raise DepotRefused("archive refusée : elle est chiffrée (mot de passe)")
            name = _plain(entry.filename)
            try:
                with archive.open(entry) as member:
                    names.append(_write(folder, name, member, budget))
            except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError):
                raise DepotRefused(f"archive abîmée : « {name} » ne se décompresse pas") from None
    return names
