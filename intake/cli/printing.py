"""What several commands print the same way: dates in French, ingest lines, emails sent."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, TextIO

from intake.clock import Clock
from intake.convention import deadlines

if TYPE_CHECKING:  # `intake status` prints dates, and has no use for the pipeline
    from intake.app import App
    from intake.pipeline import Line
    from intake.pipeline.notify import Notified

_RESULT_LABEL = {"ingested": "intégrée", "held": "déjà détenue", "refused": "refusée"}


def _ingest_line(app: App, line: Line, clock: Clock) -> str:
    label = f"{line.label}  {_RESULT_LABEL[line.result.value]}"
    if line.result.value == "refused":
        return f"{label} [{line.code}] {line.message}"
    if line.retrieval_due is None:
        return label
    today = deadlines.local_date(clock.now(), app.config.timezone)
    timing = "dans le délai" if today <= line.retrieval_due else "délai de récupération dépassé"
    return f"{label} — {timing} (échéance {line.retrieval_due:%d/%m/%Y})"


def _iso(value: datetime | date | None, app: App) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(app.config.timezone).isoformat()
    return value.isoformat()


def _fr_date(value: str | None) -> str:
    return "—" if not value else date.fromisoformat(value[:10]).strftime("%d/%m/%Y")


def _print_notified(notified: Notified, out: TextIO) -> None:
    line = (
        f"Courriels : {notified.announced} annonce(s) de nouvelles demandes, "
        f"{notified.alerts} alerte(s) d'échéance mise(s) en file"
    )
    delivery = notified.delivery
    if delivery is None:
        line += " ; pas de [smtp] configuré : ils restent en file d'attente"
    else:
        line += f" ; {len(delivery.sent)} envoyé(s)"
        if delivery.deferred or delivery.failed:
            line += f", {len(delivery.deferred)} à réessayer, {len(delivery.failed)} en échec" + (
                f" ({delivery.error})" if delivery.error else ""
            )
    print(line + ".", file=out)


def _fr_datetime(value: str | None) -> str:
    return "jamais" if not value else datetime.fromisoformat(value).strftime("%d/%m/%Y %H:%M")
