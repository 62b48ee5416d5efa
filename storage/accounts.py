"""The staff's console accounts, their sessions and failed sign-ins: the only code that
touches those tables. Accounts are keyed by the lowercased email."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, delete, func, select

from storage.models import SignInFailure, StaffAccount, WebSession


def account(session: Session, email: str) -> StaffAccount | None:
    return session.get(StaffAccount, email.casefold())


def accounts(session: Session) -> dict[str, StaffAccount]:
    return {a.email: a for a in session.exec(select(StaffAccount))}


def save(session: Session, row: StaffAccount | WebSession) -> None:
    session.add(row)


def web_session(session: Session, token_hash: str) -> WebSession | None:
    return session.get(WebSession, token_hash)


def end_session(session: Session, row: WebSession) -> None:
    session.delete(row)


def end_sessions_of(session: Session, email: str) -> None:
    """Every console session of a person (a new password signs them out everywhere)."""
    session.exec(delete(WebSession).where(col(WebSession.email) == email))


def end_session_by_hash(session: Session, token_hash: str) -> None:
    session.exec(delete(WebSession).where(col(WebSession.token_hash) == token_hash))


def failed_sign_ins(session: Session, email: str, at: datetime, since: datetime) -> int:
    """Record a failed sign-in and count those since `since`, this one included."""
    email = email.casefold()
    session.add(SignInFailure(email=email, at=at))
    session.flush()
    query = (
        select(func.count())
        .select_from(SignInFailure)
        .where(col(SignInFailure.email) == email, col(SignInFailure.at) > since)
    )
    return int(session.exec(query).one())


def forget_failures(session: Session, email: str) -> None:
    session.exec(delete(SignInFailure).where(col(SignInFailure.email) == email.casefold()))
