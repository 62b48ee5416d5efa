"""Named, individual access for the console (convention, annexe 1): each person of [[staff]]
signs in with their own address and password, optionally a TOTP code; sessions time out.

Only an argon2 hash of each password is kept, the TOTP secret is wrapped by the master
key, and a session is known by the SHA-256 of its cookie. Five failed sign-ins in fifteen
minutes lock the account for fifteen minutes. Every sign-in, failure, lock and sign-out is
an audit event, with no password, code or claimed address in it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import NoReturn

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine

from intake.clock import Clock
from intake.config import Config, StaffSection
from intake.errors import IntakeError
from storage import accounts as store
from storage.db import transaction
from storage.models import StaffAccount, WebSession
from storage.vault import Vault

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
LOCK_AFTER = 5
LOCK_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)
MIN_PASSWORD = 12
UNKNOWN_ACTOR = "inconnu:non-habilite"
_HASHER = PasswordHasher()


@cache
def dummy_hash() -> str:
    """Verified when the address is unknown, so that both answers take as long. Made on
    first need (the console makes it as it starts), not on import: an Argon2 hash costs some
    150 ms and 64 MB, which every command paid for nothing."""
    return _HASHER.hash(secrets.token_hex(16))


class AccountError(IntakeError):
    """Why an account cannot be set up, in French."""


class SignInRefused(Exception):
    """A sign-in that failed: the message never says whether the address exists."""


@dataclass(frozen=True)
class Person:
    """Who a request comes from: a signed-in member of [[staff]]."""

    member: StaffSection
    csrf: str
    stage: str  # "code": the TOTP code is still awaited

    @property
    def email(self) -> str:
        return self.member.email


@dataclass(frozen=True)
class Opened:
    token: str  # the cookie's value, given once
    person: Person


@dataclass(frozen=True)
class AccountLine:
    member: StaffSection
    has_password: bool
    totp: bool
    last_sign_in_at: datetime | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class Accounts:
    config: Config
    engine: Engine
    vault: Vault
    clock: Clock

    # --- set up (intake staff) ----------------------------------------------------------------

    def _member(self, email: str) -> StaffSection:
        member = self.config.staff_member(email)
        if member is None:
            raise AccountError(
                f"{email} n'est pas une personne habilitée de la configuration ([[staff]]) : "
                "seules elles peuvent avoir un compte"
            )
        return member

    def set_password(self, email: str, password: str) -> StaffSection:
        member = self._member(email)
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"mot de passe trop court : {MIN_PASSWORD} caractères au moins")
        now = self.clock.now()
        with transaction(self.engine) as session:
            account = store.account(session, member.email)
            hashed = _HASHER.hash(password)
            if account is None:
                account = StaffAccount(
                    email=member.email.casefold(), password_hash=hashed, password_set_at=now
                )
            account.password_hash, account.password_set_at = hashed, now
            account.locked_until = None
            store.save(session, account)
            store.end_sessions_of(session, member.email)
            self.vault.trail.record(session, at=now, actor=member.email, action="mot-de-passe")
        return member

    def enable_totp(self, email: str) -> str:
        """A new TOTP secret for the person; the provisioning URI their app reads."""
        member = self._member(email)
        secret = pyotp.random_base32()
        now = self.clock.now()
        with transaction(self.engine) as session:
            account = store.account(session, member.email)
            if account is None:
                raise AccountError(f"{member.email} n'a pas encore de mot de passe")
            account.totp_secret = self.vault.wrap_secret(secret.encode(), f"totp:{account.email}")
            store.save(session, account)
            self.vault.trail.record(session, at=now, actor=member.email, action="totp-active")
        return pyotp.TOTP(secret).provisioning_uri(name=member.email, issuer_name="intake")

    def listing(self) -> list[AccountLine]:
        with transaction(self.engine) as session:
            accounts = store.accounts(session)
        lines = []
        for member in sorted(self.config.raw.staff, key=lambda m: m.name.casefold()):
            account = accounts.get(member.email.casefold())
            lines.append(
                AccountLine(
                    member,
                    account is not None,
                    bool(account and account.totp_secret),
                    account.last_sign_in_at if account else None,
                )
            )
        return lines

    # --- signing in ---------------------------------------------------------------------------

    def sign_in(self, email: str, password: str, previous_token: str | None = None) -> Opened:
        now = self.clock.now()
        member = self.config.staff_member(email.strip())
        with transaction(self.engine) as session:
            account = store.account(session, member.email) if member else None
        if member is None or account is None:
            _verify(dummy_hash(), password)
            self._refused(None, now, "inconnu")
        assert member is not None and account is not None
        if account.locked_until is not None and account.locked_until > now:
            self._refused(member, now, "verrouille")
        if not _verify(account.password_hash, password):
            self._failed(member, now)
        stage = "code" if account.totp_secret else "ok"
        return self._open(member, stage, now, previous_token)

    def confirm_code(self, token: str, code: str) -> Opened:
        """The second step: the TOTP code of a session opened with the right password."""
        now = self.clock.now()
        with transaction(self.engine) as session:
            row = store.web_session(session, _digest(token))
        person = self._alive(row, now)
        if person is None or person.stage != "code":
            raise SignInRefused("session expirée : reconnectez-vous")
        with transaction(self.engine) as session:
            account = store.account(session, person.email)
        assert account is not None and account.totp_secret is not None
        secret = self.vault.unwrap_secret(account.totp_secret, f"totp:{account.email}")
        if not pyotp.TOTP(secret.decode()).verify(code.strip(), for_time=now, valid_window=1):
            self._failed(person.member, now)
        return self._open(person.member, "ok", now, token)

    def _open(
        self, member: StaffSection, stage: str, now: datetime, previous: str | None
    ) -> Opened:
        token = secrets.token_urlsafe(32)  # a new id at every sign-in: no fixation
        csrf = secrets.token_urlsafe(32)
        with transaction(self.engine) as session:
            if previous:
                store.end_session_by_hash(session, _digest(previous))
            store.save(
                session,
                WebSession(
                    token_hash=_digest(token),
                    email=member.email,
                    csrf=csrf,
                    stage=stage,
                    created_at=now,
                    last_seen_at=now,
                ),
            )
            if stage == "ok":
                account = store.account(session, member.email)
                assert account is not None
                account.last_sign_in_at = now
                store.save(session, account)
                store.forget_failures(session, member.email)
                self.vault.trail.record(session, at=now, actor=member.email, action="connexion")
        return Opened(token, Person(member, csrf, stage))

    def _failed(self, member: StaffSection, now: datetime) -> NoReturn:
        email = member.email.casefold()
        with transaction(self.engine) as session:
            recent = store.failed_sign_ins(session, email, now, now - LOCK_WINDOW)
            locked = recent >= LOCK_AFTER
            if locked:
                account = store.account(session, email)
                assert account is not None
                account.locked_until = now + LOCK_TIME
                store.save(session, account)
                store.forget_failures(session, email)
            self.vault.trail.record(
                session,
                at=now,
                actor=member.email,
                action="compte-verrouille" if locked else "connexion-refusee",
                detail={"motif": "mot-de-passe-ou-code", "echecs": int(recent)},
            )
        if locked:
            raise SignInRefused(
                "trop d'essais : ce compte est verrouillé pendant 15 minutes ; l'administrateur "
                "a été prévenu par le journal d'audit"
            )
        raise SignInRefused("adresse, mot de passe ou code incorrect")

    def _refused(self, member: StaffSection | None, now: datetime, why: str) -> NoReturn:
        with transaction(self.engine) as session:
            self.vault.trail.record(
                session,
                at=now,
                actor=member.email if member else UNKNOWN_ACTOR,
                action="connexion-refusee",
                detail={"motif": why},
            )
        if why == "verrouille":
            raise SignInRefused("ce compte est verrouillé pendant 15 minutes après trop d'essais")
        raise SignInRefused("adresse, mot de passe ou code incorrect")

    # --- sessions -----------------------------------------------------------------------------

    def person(self, token: str | None) -> Person | None:
        """Who holds this cookie, or None (unknown, timed out, or no longer in [[staff]]).
        Each request refreshes the idle time-out."""
        if not token:
            return None
        now = self.clock.now()
        with transaction(self.engine) as session:
            row = store.web_session(session, _digest(token))
            person = self._alive(row, now)
            if row is not None and person is None:
                store.end_session(session, row)
            elif row is not None:
                row.last_seen_at = now
                store.save(session, row)
        return person

    def _alive(self, row: WebSession | None, now: datetime) -> Person | None:
        if row is None:
            return None
        if now - row.last_seen_at > IDLE or now - row.created_at > ABSOLUTE:
            return None
        member = self.config.staff_member(row.email)
        if member is None:  # left [[staff]]: the habilitation ended with the configuration
            return None
        return Person(member, row.csrf, row.stage)

    def sign_out(self, token: str | None) -> None:
        if not token:
            return
        now = self.clock.now()
        with transaction(self.engine) as session:
            row = store.web_session(session, _digest(token))
            if row is None:
                return
            store.end_session(session, row)
            self.vault.trail.record(session, at=now, actor=row.email, action="deconnexion")


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
