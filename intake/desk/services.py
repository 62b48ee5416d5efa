"""The console's and the commands' use cases, one method each, called with a `Context` (who
acts, now): reading the demandes, their follow-up, the exports, the front page, the journal,
the upload of feeds. `App` builds each service once; a page or a command parses, calls one
method and renders. Who may do what is decided here (and in the modules they call), never in
a handler. Each method owns its transactions (storage's `transaction()`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

from intake import deadlines
from intake.access import AccessDenied, Opened, open_demande
from intake.context import Context
from intake.dashboard import Dashboard, dashboard
from intake.exports import Exported, Format, Selection, export, export_file, last_export
from intake.followup import FollowUp, mark_treated, record_follow_up
from intake.journal import JournalFilters, JournalPage, journal_csv, journal_page
from intake.listing import PAGE_SIZE, Filters, Page, demandes_page
from storage import demandes as store
from storage.db import transaction
from storage.status import Status, still_owed

if TYPE_CHECKING:
    from intake.config import StaffSection
    from intake.depot import Deposit
    from intake.wiring import Parts

Scope = Literal["depuis", "periode", "tout"]


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
class FollowUpForm:
    """What the follow-up form says (convention, art. 3-4), checked by `record`."""

    outcome: str
    contacted_on: date | None = None
    means: str | None = None
    directed_to: str = ""
    reason: str | None = None


@dataclass(frozen=True)
class FollowUps:
    app: Parts

    def mark_treated(self, ctx: Context, numero: str) -> None:
        app = self.app
        mark_treated(app.engine, app.vault, app.config, numero, ctx.actor, ctx.now)

    def record(self, ctx: Context, numero: str, form: FollowUpForm) -> FollowUp:
        app = self.app
        return record_follow_up(
            app.engine, app.vault, app.config, numero, ctx.actor, ctx.now,
            outcome=form.outcome, contacted_on=form.contacted_on, means=form.means,
            directed_to=form.directed_to, reason=form.reason,
        )  # fmt: skip


@dataclass(frozen=True)
class Download:
    content: bytes
    name: str
    format: Format


@dataclass(frozen=True)
class Exports:
    """The demandes in full for the lieu's software: a habilitated person's communes only,
    each exported demande audited with its file."""

    app: Parts

    def last(self, ctx: Context) -> datetime | None:
        """When this person last exported (« depuis la dernière exportation »)."""
        return last_export(self.app.engine, ctx.actor)

    def selection(
        self, ctx: Context, scope: Scope, first: date | None, last: date | None, commune: str | None
    ) -> Selection:
        if scope == "depuis":
            return Selection(after=self.last(ctx), commune=commune)
        if scope == "tout":
            return Selection(commune=commune)
        since, until = deadlines.day_range(first, last, self.app.config.timezone)
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
        """The file, handed to `write` inside the transaction that audits it."""
        app, selection = self.app, self.selection(ctx, scope, first, last, commune)
        return export(app.engine, app.vault, app.config, ctx.actor, fmt, ctx.now, write, selection)

    def to_file(
        self, ctx: Context, fmt: Format, output: Path, first: date | None, commune: str | None
    ) -> Exported:
        """Into a file its owner alone can read (`intake export`), retrieved since `first`."""
        app, selection = self.app, self.selection(ctx, "periode", first, None, commune)
        return export_file(
            app.engine, app.vault, app.config, ctx.actor, fmt, output, ctx.now, selection
        )

    def download(
        self, ctx: Context, fmt: Format, scope: Scope, first: date | None, last: date | None
    ) -> Download:
        """The console's export: the file and its name."""
        written: list[bytes] = []
        self.write(ctx, fmt, written.append, scope, first, last)
        name = f"demandes-{ctx.now.astimezone(self.app.config.timezone):%Y-%m-%d-%H%M}.{fmt}"
        return Download(written[0], name, fmt)


@dataclass(frozen=True)
class Desk:
    """The console's front page, the journal (admins), the upload of feeds."""

    app: Parts

    def dashboard(self, ctx: Context) -> Dashboard:
        return dashboard(self.app.engine, self.app.config, _member(self.app, ctx), ctx.now)

    def journal(self, ctx: Context, filters: JournalFilters, number: int) -> JournalPage:
        app = self.app
        return journal_page(app.engine, app.vault, app.config, ctx.actor, filters, number, ctx.now)

    def journal_csv(self, ctx: Context, filters: JournalFilters) -> bytes:
        app = self.app
        return journal_csv(app.engine, app.vault, app.config, ctx.actor, filters, ctx.now)

    def deposit(self, ctx: Context, uploads: Sequence[tuple[str, BinaryIO]]) -> Deposit:
        from intake.depot import deposit

        return deposit(self.app, ctx.actor, uploads)
