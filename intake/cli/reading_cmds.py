"""`intake ingest`, `demandes`, `show` and `export`: feeds taken in by hand, and the demandes
held, read by a habilitated person."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from intake import deadlines, french
from intake.access import NotHeld, open_demande
from intake.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    UsageError,
    actor,
    load_app,
)
from intake.cli.identity import authenticate
from intake.cli.printing import _fr_date, _ingest_line, _iso
from intake.clock import Clock
from intake.config import Config
from intake.demande_text import render
from intake.exports import EXPORT_WARNING, Selection, export, export_file
from intake.feed import FeedHeader
from intake.files import RefusedFileError, open_regular, write_private
from intake.french import plural
from intake.pipeline import Line, Result
from intake.pipeline.handed import Cleared, clear_stored
from storage import demandes as store
from storage.db import transaction
from storage.models import DemandeRow, Status


def _feed_files(paths: Sequence[str]) -> list[tuple[Path, str | None]]:
    """Each path, or each *.xml of a folder; a path that cannot be read gets its French reason.
    Only regular files are taken: a link or a FIFO is refused unread."""
    found: list[tuple[Path, str | None]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found += [(p, _unreadable(p)) for p in sorted(path.glob("*.xml"))]
        else:
            found.append((path, _unreadable(path)))
    return found


def _unreadable(path: Path) -> str | None:
    try:
        with open_regular(path):
            return None
    except FileNotFoundError:
        return "fichier introuvable"
    except RefusedFileError as exc:
        return exc.strerror
    except OSError as exc:
        return f"fichier illisible ({exc.strerror})"


def cmd_ingest(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    who = actor(app.config, args.agent, app.clock.now())
    ingestor = app.ingestor(who)
    counts = {result: 0 for result in Result}
    read: list[Path] = []
    cleared = Cleared()
    for path, problem in _feed_files(args.paths):
        if problem is not None:
            print(f"{path} : refusé — {problem}", file=out)
            counts[Result.REFUSED] += 1
            continue
        lines: list[Line] = []
        for line in ingestor.ingest_file(path):
            if isinstance(line, FeedHeader):
                _print_header(app.config, path, line, out)
                continue
            lines.append(line)
            counts[line.result] += 1
            print(_ingest_line(app, line, clock), file=out)
        read.append(path)
        if args.supprimer:
            clear_stored(path, lines, cleared)
    print(
        f"Bilan : {counts[Result.INGESTED]} intégrée(s), {counts[Result.HELD]} déjà détenue(s), "
        f"{counts[Result.REFUSED]} refusée(s).",
        file=out,
    )
    _print_leftovers(read, cleared, args.supprimer, out)
    return EXIT_REFUSED if counts[Result.REFUSED] else EXIT_OK


def _print_leftovers(read: list[Path], cleared: Cleared, deleting: bool, out: TextIO) -> None:
    """The files read hold the families' personal data: say what became of them."""
    if not read:
        return
    if not deleting:
        print(
            "Attention : les fichiers lus (XML et PDF) restent en place et contiennent des "
            "données personnelles ; supprimez-les, ou relancez avec --supprimer pour effacer "
            "ceux des demandes enregistrées.",
            file=out,
        )
        return
    print(
        f"{plural(len(cleared.deleted), 'fichier supprimé', 'fichiers supprimés')} "
        "(XML et PDF des demandes enregistrées).",
        file=out,
    )
    for feed in cleared.kept:
        print(
            f"Gardé : {feed} (une demande au moins n'est pas enregistrée) ; il contient des "
            "données personnelles : supprimez-le, avec ses PDF, une fois traité.",
            file=out,
        )


def _print_header(config: Config, path: Path, header: FeedHeader, out: TextIO) -> None:
    print(
        f"{path.name} : flux de la commune {header.commune} "
        f"({config.commune_name(header.commune)})",
        file=out,
    )
    if header.lieu_id != config.lieu.id:
        print(
            f"  attention : ce flux est adressé au lieu {header.lieu_id}, pas à {config.lieu.id}",
            file=out,
        )


# --- demandes ------------------------------------------------------------------------------------


def cmd_demandes(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    tz = app.config.timezone
    items: list[dict[str, Any]] = []
    with transaction(app.engine) as session:
        for row in store.listing(session, commune=args.commune, status=args.status):
            met = (
                deadlines.retrieval_met(row.retrieved_at, row.retrieval_due, tz)
                if row.retrieval_due and row.status == Status.RECEIVED
                else None
            )
            items.append(
                {
                    "numero": row.numero,
                    "commune": row.commune,
                    "status": row.status,
                    "transmitted_at": _iso(row.transmitted_at, app),
                    "notified_at": _iso(_notified(row), app),
                    "retrieved_at": _iso(row.retrieved_at, app),
                    "retrieval_due": _iso(row.retrieval_due, app),
                    "retrieval_met": met,
                    "purge_due": _iso(row.purge_due, app),
                }
            )
    if args.json:
        json.dump(items, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return EXIT_OK
    _print_table(items, out, app.config)
    return EXIT_OK


def _notified(row: DemandeRow) -> datetime | None:
    known = [t for t in (row.mail_notified_at, row.notified_at) if t is not None]
    return min(known) if known else None


def _print_table(items: list[dict[str, Any]], out: TextIO, config: Config) -> None:
    if not items:
        print("Aucune demande.", file=out)
        return
    met_label = {True: "dans le délai", False: "en retard", None: "—"}
    header = (
        "Numéro",
        "Commune",
        "Statut",
        "Transmise le",
        "À récupérer avant",
        "Récupérée",
        "Détruite avant",
    )
    rows = [
        (
            i["numero"],
            f"{config.commune_name(i['commune'])} ({i['commune']})",
            french.status(i["status"]),
            _fr_date(i["transmitted_at"]),
            _fr_date(i["retrieval_due"]),
            met_label[i["retrieval_met"]],
            _fr_date(i["purge_due"]),
        )
        for i in items
    ]
    widths = [max(len(str(r[c])) for r in [header, *rows]) for c in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip(), file=out)
    print(f"{plural(len(items), 'demande')}.", file=out)


# --- show and export -----------------------------------------------------------------------------


def cmd_show(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    who = authenticate(app, args.agent, "lecture", args.numero)
    try:
        opened = open_demande(
            app.engine,
            app.vault,
            app.config,
            args.numero,
            who.email,
            clock.now(),
            with_pdf=args.pdf is not None,
        )
    except NotHeld as exc:
        print(f"intake : {exc}", file=sys.stderr)
        return EXIT_REFUSED
    out.write(render(opened, app.config.timezone))
    if args.pdf is not None:
        if opened.pdf is None:
            print("Aucun PDF conservé pour cette demande.", file=sys.stderr)
            return EXIT_REFUSED
        write_private(args.pdf, opened.pdf)
        print(f"PDF écrit (lisible par vous seul) : {args.pdf}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    try:
        since = date.fromisoformat(args.since) if args.since else None
    except ValueError:
        raise UsageError(f"--since : date attendue (AAAA-MM-JJ), pas « {args.since} »") from None
    selection = Selection(
        since=deadlines.day_range(since, None, app.config.timezone)[0], commune=args.commune
    )
    who = authenticate(app, args.agent, "export").email
    if args.output == "-":
        done = export(
            app.engine, app.vault, app.config, who, args.format, clock.now(),
            _to_stdout, selection,
        )  # fmt: skip
        where, report = "sur la sortie standard", sys.stderr
    else:
        done = export_file(
            app.engine, app.vault, app.config, who, args.format, Path(args.output),
            clock.now(), selection,
        )  # fmt: skip
        where, report = f"dans {args.output} (lisible par vous seul)", out
    print(
        f"{plural(done.demandes, 'demande exportée', 'demandes exportées')} {where}.", file=report
    )
    if done.past_retention:
        print(
            f"{done.past_retention} demande(s) non exportée(s) : leur durée de conservation a "
            "pris fin, elles doivent être détruites : une destruction est due (intake purge).",
            file=sys.stderr,
        )
    print(EXPORT_WARNING, file=sys.stderr)
    return EXIT_OK


def _to_stdout(content: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(content)
    sys.stdout.buffer.flush()
