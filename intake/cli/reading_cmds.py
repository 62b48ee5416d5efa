"""`intake ingest`, `demandes`, `show` and `export`: feeds taken in by hand, and the demandes
held, read by a habilitated person."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from intake import french
from intake.app import App
from intake.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    UsageError,
    actor,
    dump_json,
    load_app,
)
from intake.cli.identity import authenticate
from intake.cli.printing import _fr_date, _ingest_line, _iso
from intake.clock import Clock
from intake.config import Config
from intake.desk.access import NotHeld
from intake.desk.demande_text import render
from intake.desk.exports import EXPORT_WARNING, Exported
from intake.desk.listing import Filters, Item
from intake.feed import FeedHeader
from intake.files import write_private
from intake.french import plural
from intake.pipeline import Line, Result
from intake.pipeline.handed import Cleared, Handed, Header, Unreadable, ingest_handed


def cmd_ingest(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    ingestor = app.ingestor(actor(app.config, args.agent, app.clock.now()))
    handed = Handed()
    for event in ingest_handed(ingestor, args.paths, args.supprimer, handed):
        _print_event(app, event, clock, out)
    counts = handed.counts
    print(
        f"Bilan : {counts[Result.INGESTED]} intégrée(s), {counts[Result.HELD]} déjà détenue(s), "
        f"{counts[Result.REFUSED]} refusée(s).",
        file=out,
    )
    _print_leftovers(handed.read, handed.cleared, args.supprimer, out)
    return EXIT_REFUSED if counts[Result.REFUSED] else EXIT_OK


def _print_event(app: App, event: Unreadable | Header | Line, clock: Clock, out: TextIO) -> None:
    if isinstance(event, Unreadable):
        print(f"{event.path} : refusé — {event.problem}", file=out)
    elif isinstance(event, Header):
        _print_header(app.config, event.path, event.header, out)
    else:
        print(_ingest_line(app, event, clock), file=out)


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
    filters = Filters(commune=args.commune, status=args.status, oldest_first=True)
    listing = app.reading.demandes(
        app.context(actor(app.config, None, clock.now())), filters, size=None
    )
    items = [_listed(item, app) for item in listing.items]
    if args.json:
        dump_json(items, out)
        return EXIT_OK
    _print_table(items, out, app.config)
    return EXIT_OK


def _listed(item: Item, app: App) -> dict[str, Any]:
    return {
        "numero": item.numero,
        "commune": item.commune,
        "status": item.status,
        "transmitted_at": _iso(item.transmitted_at, app),
        "notified_at": _iso(item.notified_at, app),
        "retrieved_at": _iso(item.retrieved_at, app),
        "retrieval_due": _iso(item.retrieval_due, app),
        "retrieval_met": item.retrieval_met,
        "purge_due": _iso(item.purge_due, app),
    }


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
        opened = app.reading.open(
            app.context(who.email), args.numero, with_pdf=args.pdf is not None
        )
    except NotHeld as exc:
        print(f"intake : {exc}", file=sys.stderr)
        return EXIT_REFUSED
    out.write(render(opened, app.config.timezone))
    if args.pdf is None:
        return EXIT_OK
    if opened.pdf is None:
        print("Aucun PDF conservé pour cette demande.", file=sys.stderr)
        return EXIT_REFUSED
    write_private(args.pdf, opened.pdf)
    print(f"PDF écrit (lisible par vous seul) : {args.pdf}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    since = _since(args.since)
    ctx = app.context(authenticate(app, args.agent, "export").email)
    if args.output == "-":
        done = app.exports.write(ctx, args.format, _to_stdout, "periode", since, None, args.commune)
        where, report = "sur la sortie standard", sys.stderr
    else:
        done = app.exports.to_file(ctx, args.format, Path(args.output), since, args.commune)
        where, report = f"dans {args.output} (lisible par vous seul)", out
    _print_exported(done, where, report)
    return EXIT_OK


def _since(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise UsageError(f"--since : date attendue (AAAA-MM-JJ), pas « {text} »") from None


def _print_exported(done: Exported, where: str, report: TextIO) -> None:
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


def _to_stdout(content: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(content)
    sys.stdout.buffer.flush()
