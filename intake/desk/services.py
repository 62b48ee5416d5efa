"""The console's and the commands' use cases, one method each, called with a `Context` (who
acts, now): reading the demandes, the front page, the upload of feeds (the follow-up, the
exports, the journal and the accounts have theirs in their own modules). `App` builds each
service once; a page or a command parses, calls one method and renders. Who may do what is
decided here (and in the modules they call), never in a handler. Each method owns its
transactions (storage's `transaction()`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, BinaryIO

from intake.context import Context
from intake.convention import deadlines
from intake.desk.access import AccessDenied, Opened, open_demande
from intake.desk.dashboard import Dashboard, dashboard
from intake.desk.listing import PAGE_SIZE, Filters, Page, demandes_page
from storage import demandes as store
from storage.db import transaction
from storage.status import Status, still_owed

if TYPE_CHECKING:
    from intake.config import StaffSection
    from intake.desk.depot import Deposit
    from intake.wiring import Parts


def _member(app: Parts, ctx: Context) -> StaffSection:
    """The [[staff]] person acting (the console's signed-in person)."""
    member = app.config.staff_member(ctx.actor)
    if member is None:
        raise AccessDenied(f"{ctx.actor} n'est pas une personne habilitée de la configuration")
    return member


@dataclass(frozen=True)
class Deadline:
    numero: str
    commune: str
    status: str
    retrieval_due: date
    state: str  # deadlines.retrieval_state's


@dataclass(frozen=True)
class Reading:
    """The demandes: the list (the console's page and `intake demandes`), one demande in full
    (read, audited), the retrieval deadlines."""

    app: Parts

    def demandes(
        self, ctx: Context, filters: Filters, number: int = 1, size: int | None = PAGE_SIZE
    ) -> Page:
        """A person's communes' demandes; every commune for the system (`intake demandes`,
        which shows nothing personal)."""
        config = self.app.config
        communes = None if ctx.system else config.staff_communes(_member(self.app, ctx))
        return demandes_page(self.app.engine, config, communes, filters, number, ctx.now, size)

    def open(self, ctx: Context, numero: str, *, with_pdf: bool = False) -> Opened:
        app = self.app
        return open_demande(
            app.engine, app.vault, app.config, numero, ctx.actor, ctx.now, with_pdf=with_pdf
        )

    def deadlines(self, ctx: Context) -> list[Deadline]:
        """Each demande not destroyed with a retrieval deadline, and where it stands."""
        tz = self.app.config.timezone
        today = deadlines.local_date(ctx.now, tz)
        soon = max(self.app.config.raw.alerts.before_deadline, default=0)
        found = []
        with transaction(self.app.engine) as session:
            for row in store.listing(session):
                if row.retrieval_due is None or row.status == Status.PURGED:
                    continue
                retrieved = None if still_owed(row.status) else row.retrieved_at
                state = deadlines.retrieval_state(retrieved, row.retrieval_due, today, soon, tz)
                found.append(
                    Deadline(row.numero, row.commune, row.status, row.retrieval_due, state)
                )
        return found


@dataclass(frozen=True)
class Desk:
    """The console's front page and the upload of feeds."""

    app: Parts

    def dashboard(self, ctx: Context) -> Dashboard:
        return dashboard(self.app.engine, self.app.config, _member(self.app, ctx), ctx.now)

    def deposit(self, ctx: Context, uploads: Sequence[tuple[str, BinaryIO]]) -> Deposit:
        from intake.desk.depot import deposit

        return deposit(self.app, ctx.actor, uploads)
