"""The demo's last act: the four weeks up to today, so that the console opens on work to do.

Demandes arrive over these weeks and are retrieved by the daemon's own jobs; three are only
announced by email and never reach the feed (one past its retrieval deadline, two due within
days); Laetitia Feuga marks one as treated, records the follow-up of another and writes to a
third family with the lieu's acknowledgement letter. Every date follows from the demo's
start, so the console, which runs in real time afterwards, shows them as they are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from intake.app import App
from intake.clock import FixedClock
from intake.context import Context
from intake.desk.followup import FollowUpForm
from intake.ops.duties import Duties
from intake.sandbox.families import SandboxDemande
from intake.sandbox.state import SandboxState


class Demo(Protocol):
    """What this act uses of `intake.demo.Demo` (which imports this module)."""

    started: datetime
    clock: FixedClock

    def at(self, moment: datetime) -> datetime: ...
    def jobs(self, duties: Duties, *names: str) -> None: ...
    def say(self, when: datetime | None, text: str) -> None: ...
    def read_notification(self, app: App, demande: Any) -> None: ...
    def monthly_report(self, app: App, duties: Duties, moment: datetime) -> None: ...


PARIS = ZoneInfo("Europe/Paris")
COMMUNE = "69273"
AGENT = "l.feuga@ville-corbas.fr"


def current_weeks(demo: Demo, app: App, duties: Duties, state: SandboxState) -> None:
    # This month's report, on the 1st at 6:00 as the daemon makes it, in its place in time.
    local = demo.started.astimezone(PARIS)
    reports = [datetime(local.year, local.month, 1, 6, 0, tzinfo=PARIS)]

    def days_ago(days: float) -> datetime:
        moment = demo.started - timedelta(days=days)
        if reports and reports[0] <= moment:
            demo.monthly_report(app, duties, reports.pop())
        return demo.at(moment)

    moment = days_ago(20)
    first = _arrive(demo, duties, state, 3)
    demo.say(moment, "Ces dernières semaines : 3 nouvelles demandes, récupérées le jour même.")
    late = _announced_only(demo, app, state, days_ago(16))
    soon = [_announced_only(demo, app, state, days_ago(d)) for d in (12, 11)]
    demo.say(
        demo.clock.now(),
        f"{late.numero}, {soon[0].numero} et {soon[1].numero} sont annoncées par courriel mais "
        "absentes du flux : à récupérer à la main sur l'extranet.",
    )
    days_ago(9)
    second = _arrive(demo, duties, state, 2)
    days_ago(2)
    third = _arrive(demo, duties, state, 2)
    moment = days_ago(1)
    demo.jobs(duties, "extranet", "courriels")  # the late one's daily alert
    demo.say(moment, f"{late.numero} est en retard : l'agent est alerté chaque jour.")

    acting = Context(AGENT, moment)
    app.followups.mark_treated(acting, first[0].numero)
    app.followups.record(
        acting,
        first[1].numero,
        FollowUpForm(outcome="contactee", contacted_on=moment.date(), means="telephone"),
    )
    demo.say(
        moment,
        f"Laetitia Feuga marque {first[0].numero} comme traitée et note le suivi de "
        f"{first[1].numero} (famille contactée par téléphone).",
    )
    moment = days_ago(0.1)
    emails = app.family_emails
    ctx = Context(AGENT, moment)
    draft = emails.draft(ctx, second[0].numero, "accuse-reception")
    emails.send(ctx, second[0].numero, "accuse-reception", draft.subject, draft.text)
    demo.say(
        moment,
        f"Elle envoie l'accusé de réception à la famille de {second[0].numero} depuis la console.",
    )
    days_ago(0)
    demo.jobs(duties, "extranet", "courriels")
    held = len(first) + len(second) + len(third)
    demo.say(
        demo.started,
        f"Aujourd'hui : {held} demandes détenues (une traitée), 3 à récupérer à la main, dont "
        "une en retard.",
    )


def _arrive(demo: Demo, duties: Duties, state: SandboxState, count: int) -> list[SandboxDemande]:
    made = state.add_demandes(count, COMMUNE, age=timedelta(hours=3))
    demo.jobs(duties, "extranet", "courriels")
    return made


def _announced_only(demo: Demo, app: App, state: SandboxState, moment: datetime) -> SandboxDemande:
    """A demande whose notification email arrives while the feed never shows it."""
    (demande,) = state.add_demandes(1, COMMUNE)
    state.pending[COMMUNE].pop(demande.numero)
    demo.read_notification(app, demande)
    return demande
