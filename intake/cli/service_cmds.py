"""`intake poll`, `deadlines` and `status`: retrieval and how the service is doing."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any, TextIO

from intake.app import App
from intake.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    UsageError,
    actor,
    dump_json,
    load_app,
)
from intake.cli.printing import _ingest_line, _print_notified
from intake.clock import Clock

if TYPE_CHECKING:  # `intake deadlines` has no use for the pipeline, nor `intake run` for exports
    from intake.desk.services import Deadline
    from intake.pipeline import MailboxReport, PollReport

# --- extranet ----------------------------------------------------------------------------------


def cmd_poll(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    from intake.pipeline import MailboxReport
    from intake.pipeline.rounds import Pass

    app = load_app(args, clock)
    app.config.refuse_example()
    try:
        steps = app.retrieval.round(args.commune)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    reports = []
    for step in steps:
        if isinstance(step, MailboxReport):
            _print_mailbox(step, out)
        elif isinstance(step, Pass):
            reports.append(step.report)
            _print_pass(app, step.account, step.report, clock, out)
        else:
            _print_notified(step, out)
    return _poll_exit(reports)


def _poll_exit(reports: list[PollReport]) -> int:
    if any(r.unreachable for r in reports):
        return EXIT_UNREACHABLE
    return EXIT_REFUSED if any(r.refused for r in reports) else EXIT_OK


def _print_mailbox(report: MailboxReport, out: TextIO) -> None:
    if report.error:
        print(f"Boîte aux lettres : {report.error}", file=out)
        return
    print(
        f"Boîte aux lettres : {len(report.notified)} notification(s) nouvelle(s)"
        + (f", {report.unreadable} illisible(s)" if report.unreadable else ""),
        file=out,
    )


def _print_pass(app: App, account: str, report: PollReport, clock: Clock, out: TextIO) -> None:
    if report.sign_in_error is not None and not report.communes:
        print(
            f"Extranet ({account}) : {report.sign_in_error} [{report.sign_in_error.code}]",
            file=out,
        )
    for commune in report.communes:
        name = f"{commune.insee} ({app.config.commune_name(commune.insee)})"
        if commune.error is not None:
            print(f"{name} : erreur [{commune.error.code}] {commune.error}", file=out)
        elif commune.unchanged or not commune.lines:
            print(f"{name} : aucune nouvelle demande", file=out)
        else:
            print(
                f"{name} : {len(commune.lines)} demande(s) dans le flux, "
                f"{commune.acknowledged} acquittée(s)",
                file=out,
            )
        for line in commune.lines:
            print("  " + _ingest_line(app, line, clock), file=out)


_STATE_LABEL = {
    "overdue": "en retard",
    "due-soon": "bientôt dues",
    "pending": "à venir",
    "met": "récupérées dans le délai",
    "late": "récupérées en retard",
}


def cmd_deadlines(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    items = app.reading.deadlines(app.context(actor(app.config, None, clock.now())))
    if args.json:
        dump_json([_deadline_json(i) for i in items], out)
        return EXIT_OK
    for commune in app.config.raw.communes:
        _print_commune_deadlines(commune.insee, commune.name, items, out)
    return EXIT_OK


def _deadline_json(item: Deadline) -> dict[str, Any]:
    return {
        "numero": item.numero,
        "commune": item.commune,
        "status": item.status,
        "retrieval_due": item.retrieval_due.isoformat(),
        "state": item.state,
    }


def _print_commune_deadlines(insee: str, name: str, items: list[Deadline], out: TextIO) -> None:
    mine = [i for i in items if i.commune == insee]
    counts = ", ".join(
        f"{sum(i.state == s for i in mine)} {label}" for s, label in _STATE_LABEL.items()
    )
    print(f"{insee} ({name}) : {counts}", file=out)
    for item in mine:
        if item.state in ("overdue", "due-soon"):
            print(
                f"  {item.numero}  {_STATE_LABEL[item.state]} — à récupérer au plus "
                f"tard le {item.retrieval_due:%d/%m/%Y}",
                file=out,
            )


def cmd_run(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    """The service (a small scheduler); with --tache, some of its jobs, in this process."""
    if args.tache is not None:
        from intake.ops.duties import run_as_job

        return run_as_job(args.config, args.tache, clock)
    from intake import config as configuration
    from intake.ops.children import options, program
    from intake.ops.serve import serve

    path = configuration.locate(args.config).resolve()
    command = program(args.entry_point) + options(path, args.verbose, args.log_json)
    return serve(path, command, clock)
