"""The staff's console accounts, their sessions and the sign-in throttles: the only code that
touches those tables. Accounts are keyed by the lowercased email, throttles by a SHA-256."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete, func, select

from storage.models import PasswordLink, SignInThrottle, StaffAccount, WebSession


def account(session: Session, email: str) -> StaffAccount | None:
    return session.get(StaffAccount, email.casefold())


def accounts(session: Session) -> dict[str, StaffAccount]:
    return {a.email: a for a in session.exec(select(StaffAccount))}


def save(session: Session, row: StaffAccount | WebSession | SignInThrottle | PasswordLink) -> None:
    session.add(row)


def web_session(session: Session, token_hash: str) -> WebSession | None:
    return session.get(WebSession, token_hash)


def web_session_for_update(session: Session, token_hash: str) -> WebSession | None:
    query = select(WebSession).where(col(WebSession.token_hash) == token_hash)
    return session.exec(query.with_for_update().execution_options(populate_existing=True)).first()


def end_session(session: Session, row: WebSession) -> None:
    session.delete(row)


def end_sessions_of(session: Session, email: str, stage: str | None = None) -> None:
    """Every console session of a person (a new password signs them out everywhere), or
    only those at one stage (a lock ends the sessions still waiting for their code)."""
    query = delete(WebSession).where(col(WebSession.email) == email.casefold())
    if stage is not None:
        query = query.where(col(WebSession.stage) == stage)
    session.exec(query)


def end_session_by_hash(session: Session, token_hash: str) -> None:
    session.exec(delete(WebSession).where(col(WebSession.token_hash) == token_hash))


def throttles_for_update(session: Session, keys: Iterable[str]) -> list[SignInThrottle]:
    """The throttles of these keys, made if missing and locked until the transaction ends
    (a row lock on PostgreSQL; SQLite's write transaction already holds the whole base), always
    in the same order so that two sign-ins never wait for each other in a circle."""
    ordered = sorted(set(keys))
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for key in ordered:
        session.exec(insert(SignInThrottle).values(key=key, failures=0).on_conflict_do_nothing())
    query = (
        select(SignInThrottle)
        .where(col(SignInThrottle.key).in_(ordered))
        .order_by(col(SignInThrottle.key))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.exec(query))


def forget_throttles(session: Session, keys: Iterable[str]) -> None:
    session.exec(delete(SignInThrottle).where(col(SignInThrottle.key).in_(list(keys))))


def forget_quiet_throttles(session: Session, before: datetime) -> None:
    """Throttles without a failure since `before` (their episode is over), or left without
    any: those another sign-in holds right now are skipped, never waited for."""
    quiet = (
        select(SignInThrottle.key)
        .where(
            (col(SignInThrottle.last_failure_at) < before)
            | col(SignInThrottle.last_failure_at).is_(None)
        )
        .with_for_update(skip_locked=True)
    )
    keys = list(session.exec(quiet))
    if keys:
        forget_throttles(session, keys)


def throttle(session: Session, key: str) -> SignInThrottle | None:
    return session.get(SignInThrottle, key)


def session_counts(session: Session) -> dict[str, int]:
    """Open sessions per person (casefolded address)."""
    query = select(WebSession.email, func.count()).group_by(col(WebSession.email))
    return {email: count for email, count in session.exec(query)}


def password_link_for_update(session: Session, token_hash: str) -> PasswordLink | None:
    query = select(PasswordLink).where(col(PasswordLink.token_hash) == token_hash)
    return session.exec(query.with_for_update().execution_options(populate_existing=True)).first()


def forget_password_links(session: Session, email: str) -> None:
    """Every link of a person: a new one, or a password set, makes the others worthless."""
    session.exec(delete(PasswordLink).where(col(PasswordLink.email) == email.casefold()))
