"""`intake status`: what a supervision probe runs every minute, so it imports only what it
reads (the configuration, a few tables through `storage.health`: on a current SQLite database
the standard library's driver, not SQLAlchemy), never the pipeline or the extranet."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TextIO

from intake.app import App
from intake.cli.common import dump_json, load_app
from intake.cli.printing import _fr_datetime, _iso
from intake.clock import Clock
from intake.ops.status import WORDS, Health, lieu_health


def cmd_status(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    """Exit 0, 1 or 2 as a monitoring plugin, the verdict on the first line."""
    app = load_app(args, clock)
    result = lieu_health(app, clock.now())
    if args.json:
        dump_json(_status_json(app, result), out)
    else:
        _print_status(app, result, out)
    return result.code


def _print_status(app: App, result: Health, out: TextIO) -> None:
    print(result.summary(), file=out)
    for level, text in sorted(result.problems, key=lambda p: -p[0]):
        print(f"[{WORDS[level]}] {text}", file=out)
    for commune in result.communes:
        line = f"{commune.name} ({commune.insee}) : "
        line += f"dernier succès {_fr_datetime(_iso(commune.last_success, app))}"
        if commune.failing_since:
            line += (
                f", en erreur depuis {_fr_datetime(_iso(commune.failing_since, app))} "
                f"[{commune.error_code}]"
            )
        print(line, file=out)
    print(f"Demandes en retard de récupération : {result.overdue}", file=out)
    print(f"Attestations de destruction à signer : {result.unsigned}", file=out)
    print(_SERVICE_FR[result.service](result.workers, app), file=out)
    print(
        f"Courriels en file : {result.queued}, en échec : {result.failed}"
        + ("" if app.config.raw.smtp else " (pas de [smtp] configuré : ils restent en file)"),
        file=out,
    )


def _status_json(app: App, result: Health) -> dict[str, Any]:
    return {
        "exit": result.code,
        "summary": result.summary(),
        "communes": [
            {
                "insee": c.insee,
                "name": c.name,
                "last_success": _iso(c.last_success, app),
                "last_error": _iso(c.last_error, app),
                "last_error_code": c.error_code,
                "failing_since": _iso(c.failing_since, app),
            }
            for c in result.communes
        ],
        "outbox": {"queued": result.queued, "failed": result.failed},
        "attestations_pending": result.unsigned,
        "overdue": result.overdue,
        "problems": [{"level": level, "text": text} for level, text in result.problems],
        "service": result.service,
        "workers": [
            {
                "worker": w.worker,
                "started_at": _iso(w.started_at, app),
                "beat_at": _iso(w.beat_at, app),
            }
            for w in result.workers
        ],
    }


_SERVICE_FR: dict[str, Callable[[list[Any], App], str]] = {
    "stopped": lambda w, app: "Service (intake run) : arrêté ou jamais démarré.",
    "running": lambda w, app: (
        f"Service (intake run) : en marche, {len(w)} instance(s), dernier signe de vie "
        f"{_fr_datetime(_iso(w[0].beat_at, app))}."
    ),
    "silent": lambda w, app: (
        f"Service (intake run) : SILENCIEUX depuis {_fr_datetime(_iso(w[0].beat_at, app))} "
        "(bloqué ou arrêté brutalement) : vérifiez-le (systemctl status intake)."
    ),
}
