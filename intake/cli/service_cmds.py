"""`intake poll`, `deadlines` and `status`: retrieval and how the service is doing."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any, TextIO

from intake import deadlines
from intake.app import App
from intake.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    UsageError,
    load_app,
)
from intake.cli.printing import (
    _fr_date,
    _ingest_line,
    _print_notified,
)
from intake.clock import Clock
from intake.config import ConfigError
from storage import demandes as store
from storage.db import transaction
from storage.models import Status

# --- extranet ----------------------------------------------------------------------------------


def cmd_poll(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    app.config.refuse_example()
    try:
        pollers = app.pollers(args.commune)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    # The notification emails first: their clock runs even when the extranet is down.
    mail = app.mailbox_pass()
    mail_report = mail.run() if mail is not None else None
    if mail_report is not None:
        if mail_report.error:
            print(f"Boîte aux lettres : {mail_report.error}", file=out)
        else:
            print(
                f"Boîte aux lettres : {len(mail_report.notified)} notification(s) nouvelle(s)"
                + (f", {mail_report.unreadable} illisible(s)" if mail_report.unreadable else ""),
                file=out,
            )
    unreachable = refused = False
    for poller in pollers:
        report = poller.poll()
        unreachable, refused = unreachable or report.unreachable, refused or report.refused
        _print_pass(app, poller.account, report, clock, out)
    _print_notified(app.notify(), out)
    if unreachable:
        return EXIT_UNREACHABLE
    return EXIT_REFUSED if refused else EXIT_OK


def _print_pass(app: App, account: str, report: Any, clock: Clock, out: TextIO) -> None:
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
    tz = app.config.timezone
    today = deadlines.local_date(clock.now(), tz)
    soon = max(app.config.raw.alerts.before_deadline, default=0)
    items = []
    with transaction(app.engine) as session:
        for row in store.listing(session):
            if row.retrieval_due is None or row.status == Status.PURGED:
                continue
            retrieved = row.retrieved_at if row.status == Status.RECEIVED else None
            items.append(
                {
                    "numero": row.numero,
                    "commune": row.commune,
                    "status": row.status,
                    "retrieval_due": row.retrieval_due.isoformat(),
                    "state": deadlines.retrieval_state(
                        retrieved, row.retrieval_due, today, soon, tz
                    ),
                }
            )
    if args.json:
        json.dump(items, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return EXIT_OK
    for commune in app.config.raw.communes:
        mine = [i for i in items if i["commune"] == commune.insee]
        counts = ", ".join(
            f"{sum(i['state'] == s for i in mine)} {label}" for s, label in _STATE_LABEL.items()
        )
        print(f"{commune.insee} ({commune.name}) : {counts}", file=out)
        for item in mine:
            if item["state"] in ("overdue", "due-soon"):
                print(
                    f"  {item['numero']}  {_STATE_LABEL[item['state']]} — à récupérer au plus "
                    f"tard le {_fr_date(item['retrieval_due'])}",
                    file=out,
                )
    return EXIT_OK


def cmd_run(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    import threading

    from intake.daemon import Daemon, install_stop_signals

    stop = threading.Event()
    install_stop_signals(stop)  # a stop during start-up (migrations...) is a clean stop too
    app = load_app(args, clock)
    app.config.refuse_example()
    missing = app.config.missing_secrets()  # the service uses every one of them
    if missing:
        raise ConfigError(app.config.path, missing)
    app.ensure_open()  # also migrates and reaches the database before the first job
    app.vault  # noqa: B018  (a wrong key file stops the service before any job runs)
    if stop.is_set():
        return EXIT_OK
    daemon = Daemon(app, stop=stop)
    code = daemon.run()
    if daemon.abandoned:
        # The scheduler's worker threads are joined at exit: one stuck in a system call would
        # hold the process past systemd's stop timeout. Whatever it was doing is not committed,
        # so it is simply done again at the next start.
        logging.shutdown()
        sys.stdout.flush()
        os._exit(code)
    return code
