"""Per-commune polling state and stopped accounts: the only code touching those tables."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from sqlmodel import Session, col, func, select

from storage.models import AccountState, CommuneDay, CommuneState, MailboxState


def state(session: Session, insee: str) -> CommuneState:
    found = session.get(CommuneState, insee)
    return found if found is not None else CommuneState(insee=insee)


def all_states(session: Session) -> list[CommuneState]:
    return list(session.exec(select(CommuneState).order_by(col(CommuneState.insee))))


def _count_day(session: Session, insee: str, at: datetime, tz: tzinfo, ok: bool) -> None:
    """Attempts counted by the lieu's local day: the monthly report asks for local months, and
    a poll at 00:30 in Paris on the 1st (22:30 UTC on the last day) belongs to the new one."""
    day = at.astimezone(tz).date()
    counter = session.get(CommuneDay, (insee, day)) or CommuneDay(insee=insee, day=day)
    counter.attempts += 1
    counter.successes += int(ok)
    session.add(counter)


def availability(session: Session, first: date, last: date) -> dict[str, tuple[int, int]]:
    """(attempts, successes) per commune over the days from `first` to `last`."""
    query = (
        select(CommuneDay.insee, func.sum(CommuneDay.attempts), func.sum(CommuneDay.successes))
        .where(CommuneDay.day >= first, CommuneDay.day <= last)
        .group_by(CommuneDay.insee)
    )
    return {insee: (int(a), int(s)) for insee, a, s in session.exec(query)}


def record_success(
    session: Session, insee: str, at: datetime, etag: str | None, *, tz: tzinfo
) -> None:
    _count_day(session, insee, at, tz, True)
    current = state(session, insee)
    current.last_attempt = current.last_success = at
    current.failing_since = None
    if etag is not None:
        current.etag = etag
    session.add(current)
    session.flush()


def forget_etag(session: Session, insee: str) -> None:
    current = state(session, insee)
    current.etag = None
    session.add(current)
    session.flush()


def record_error(
    session: Session, insee: str, at: datetime, code: str, message: str, *, tz: tzinfo
) -> None:
    _count_day(session, insee, at, tz, False)
    current = state(session, insee)
    current.last_attempt = current.last_error = at
    current.last_error_code, current.last_error_message = code, message[:1000]
    current.failing_since = current.failing_since or at
    session.add(current)
    session.flush()


def stopped_account(session: Session, account: str) -> AccountState | None:
    return session.get(AccountState, account.casefold())


def stop_account(session: Session, account: str, code: str, at: datetime, mark: str) -> None:
    session.merge(AccountState(account=account.casefold(), code=code, since=at, password_mark=mark))
    session.flush()


def release_account(session: Session, account: str) -> None:
    found = session.get(AccountState, account.casefold())
    if found is not None:
        session.delete(found)
        session.flush()


def mailbox_position(session: Session, mailbox: str) -> MailboxState | None:
    return session.get(MailboxState, mailbox)


def advance_mailbox(session: Session, mailbox: str, uidvalidity: int, uid: int) -> None:
    session.merge(MailboxState(mailbox=mailbox, uidvalidity=uidvalidity, last_uid=uid))
    session.flush()
