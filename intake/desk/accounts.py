"""Named, individual access for the console (convention, annexe 1): each person of [[staff]]
signs in with their own address and password, optionally a TOTP code; sessions time out.

Only an argon2 hash of each password is kept, the TOTP secret is wrapped by the master
key, and a session is known by the SHA-256 of its cookie. Guessing is slowed down per account
and per source address (`intake.desk.throttle`, `intake.desk.sign_in_guard`): each sign-in checks
the delay, verifies and counts in one step serialised per account, every refusal reads the same
and costs one Argon2 verification, and the administrators are emailed once per episode. A
session waiting for its TOTP code has a few guesses, obeys the same delay and ends when it is
set; an accepted code is never accepted again. Every sign-in, failure, delay and sign-out is
an audit event, with no password, code, source address or claimed address in it.

The terminal's commands that reveal personal data or sign for a person ask the same of the
person they name (`authenticate`: the same steps and delays, no session, and an `acces-refuse`
event when refused).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine
from sqlmodel import Session

from intake.clock import Clock
from intake.config import Config, StaffSection
from intake.desk.sign_in_guard import UNKNOWN_ACTOR, Guard
from intake.errors import IntakeError
from intake.habilitation import habilitated_member
from storage import accounts as store
from storage.db import transaction
from storage.models import StaffAccount, WebSession
from storage.vault import Vault

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
CODE_TRIES = 3  # wrong TOTP codes a waiting session may send before it ends
MIN_PASSWORD = 12
UNKNOWN_SOURCE = "inconnue"
# The one answer to any refused sign-in: an unknown address, a wrong password and a slowed
# account must not be told apart.
REFUSED = (
    "connexion refusée : adresse, mot de passe ou code incorrect, ou trop d'essais récents "
    "(patientez quelques minutes avant de réessayer)"
)
# The terminal's (`intake show`, `export`...): the same whatever was wrong.
TERMINAL_REFUSED = (
    "accès refusé : adresse d'une personne habilitée, mot de passe ou code à usage unique "
    "incorrect, ou trop d'essais récents (patientez quelques minutes avant de réessayer) ; "
    "rien n'a été lu ni signé. Le mot de passe demandé est celui de la console "
    "(intake staff password ADRESSE)"
)
CODE_REFUSED = "code incorrect ou déjà utilisé"
CODE_ENDED = "trop d'essais ou session expirée : reconnectez-vous"
_HASHER = PasswordHasher()


@cache
def dummy_hash() -> str:
    """Verified when the address is unknown, so that both answers take as long. Made on
    first need (the console makes it as it starts), not on import: an Argon2 hash costs some
    150 ms and 64 MB, which every command paid for nothing."""
    return _HASHER.hash(secrets.token_hex(16))


class AccountError(IntakeError):
    """Why an account cannot be set up, in French."""


class IdentityRefused(IntakeError):
    """A terminal command whose person was not authenticated: nothing was done."""


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

    @property
    def guard(self) -> Guard:
        return Guard(self.config, self.engine, self.vault)

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
            store.save(session, account)
            self.guard.forget_account(session, member)
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

    def sign_in(
        self,
        email: str,
        password: str,
        previous_token: str | None = None,
        source: str = UNKNOWN_SOURCE,
    ) -> Opened:
        """The password step. Checking the delay, verifying the password and counting the
        failure are one transaction holding the account's throttle (a row lock on PostgreSQL,
        the write lock on SQLite): parallel guesses are counted one by one."""
        now = self.clock.now()
        member = habilitated_member(self.config, email.strip(), now)
        opened: Opened | None = None
        self.guard.forget_quiet(now)
        with transaction(self.engine) as session:
            account, checked = self._password(session, member, password, source, now)
            if member is not None and account is not None:
                stage = "code" if account.totp_secret else "ok"
                opened = self._open(session, member, stage, now, previous_token)
        if not checked:  # the same cost whatever happened: nothing told by the time taken
            _verify(dummy_hash(), password)
        if opened is None:
            raise SignInRefused(REFUSED)
        return opened

    def _password(
        self,
        session: Session,
        member: StaffSection | None,
        password: str,
        source: str,
        now: datetime,
    ) -> tuple[StaffAccount | None, bool]:
        """The person's account if this is their password and no delay holds, checked under
        the throttles' lock and a failure counted; and whether Argon2 ran (if not, the caller
        verifies the stand-in hash once the lock is released)."""
        guard = self.guard
        account = store.account(session, member.email) if member else None
        known = member if account is not None else None
        throttles = guard.lock(session, known, source, now)
        if throttles.blocked(now):
            guard.record(session, known, now, "connexion-refusee", motif="ralenti")
            return None, False
        if known is None or account is None:
            guard.fail(session, None, throttles, now)
            return None, False
        if _verify(account.password_hash, password):
            return account, True
        guard.fail(session, known, throttles, now)
        return None, True

    def confirm_code(self, token: str, code: str, source: str = UNKNOWN_SOURCE) -> Opened:
        """The second step: the TOTP code of a session opened with the right password. It
        obeys the account's delay and counts as a failure when wrong; a waiting session has
        CODE_TRIES guesses and ends when a delay is set."""
        now = self.clock.now()
        digest = _digest(token)
        opened: Opened | None = None
        message = CODE_ENDED
        guard = self.guard
        guard.forget_quiet(now)
        with transaction(self.engine) as session:
            person = self._alive(store.web_session(session, digest), now)
            if person is not None and person.stage == "code":
                throttles = guard.lock(session, person.member, source, now)
                row = store.web_session_for_update(session, digest)  # under the lock now
                account = store.account(session, person.email)
                if row is None or row.stage != "code" or account is None:
                    pass
                elif throttles.blocked(now):
                    store.end_sessions_of(session, person.email, stage="code")
                    guard.record(session, person.member, now, "connexion-refusee", motif="ralenti")
                elif (step := self._fresh_step(account, code, now)) is not None:
                    account.totp_last_step = step
                    store.save(session, account)
                    opened = self._open(session, person.member, "ok", now, token)
                else:
                    row.code_tries += 1
                    store.save(session, row)
                    if not guard.fail(session, person.member, throttles, now, code=True):
                        if row.code_tries < CODE_TRIES:
                            message = CODE_REFUSED
                        else:
                            store.end_session(session, row)
        if opened is None:
            raise SignInRefused(message)
        return opened

    def _fresh_step(self, account: StaffAccount, code: str, now: datetime) -> int | None:
        """The time step of this code if it is valid now (give or take one step for the
        clocks' drift) and after the last one accepted: a code never opens two sign-ins."""
        assert account.totp_secret is not None
        secret = self.vault.unwrap_secret(account.totp_secret, f"totp:{account.email}")
        totp = pyotp.TOTP(secret.decode())
        given = code.replace(" ", "").strip()
        current = totp.timecode(now)
        for step in (current - 1, current, current + 1):
            if hmac.compare_digest(totp.generate_otp(step).encode(), given.encode()):
                last = account.totp_last_step
                return step if last is None or step > last else None
        return None

    # --- the terminal -------------------------------------------------------------------------

    def authenticate(
        self,
        email: str,
        password: str,
        ask_code: Callable[[], str],
        *,
        source: str,
        action: str,
        numero: str | None = None,
    ) -> StaffSection:
        """Who runs a terminal command that reveals personal data or signs for a person: the
        console's sign-in with its delays and events, but no session. The password, then the
        TOTP code if the account has one (`ask_code` is called only then, while no lock is
        held; an accepted code is never accepted again). A refusal is an `acces-refuse` event
        naming the command (`action`), then `IdentityRefused`, whatever was wrong."""
        now = self.clock.now()
        member = self._habilitated(self.config.staff_member(email.strip()), now)
        self.guard.forget_quiet(now)
        with transaction(self.engine) as session:
            account, checked = self._password(session, member, password, source, now)
            wants_code = account is not None and account.totp_secret is not None
        if not checked:
            _verify(dummy_hash(), password)
        if member is not None and account is not None:
            if not wants_code or self._terminal_code(member, ask_code(), source):
                with transaction(self.engine) as session:  # the command's event names them
                    self.guard.forget_account(session, member)
                return member
        with transaction(self.engine) as session:
            self.vault.trail.record(
                session, at=now, actor=member.email if member else UNKNOWN_ACTOR,
                action="acces-refuse", numero=numero,
                detail={"demande": action, "motif": "authentification"},
            )  # fmt: skip
        raise IdentityRefused(TERMINAL_REFUSED)

    def _terminal_code(self, member: StaffSection, code: str, source: str) -> bool:
        """The terminal's code step, as the console's: under the throttles' lock, refused
        while a delay holds, counted as a failure when wrong, its time step then spent."""
        now = self.clock.now()  # the person took their time to type it
        guard = self.guard
        with transaction(self.engine) as session:
            throttles = guard.lock(session, member, source, now)
            account = store.account(session, member.email)
            if account is None or account.totp_secret is None:
                return False
            if throttles.blocked(now):
                guard.record(session, member, now, "connexion-refusee", motif="ralenti")
                return False
            step = self._fresh_step(account, code, now)
            if step is None:
                guard.fail(session, member, throttles, now, code=True)
                return False
            account.totp_last_step = step
            store.save(session, account)
            return True

    def _habilitated(self, member: StaffSection | None, now: datetime) -> StaffSection | None:
        """The person, if they may act at `now`: the one place the terminal's sign-in asks
        whether a habilitation holds (someone outside it reads as an unknown address)."""
        return habilitated_member(self.config, member.email, now) if member else None

    def _open(
        self,
        session: Session,
        member: StaffSection,
        stage: str,
        now: datetime,
        previous: str | None,
    ) -> Opened:
        token = secrets.token_urlsafe(32)  # a new id at every sign-in: no fixation
        csrf = secrets.token_urlsafe(32)
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
        if stage == "ok":  # a password alone, while a code is awaited, forgives nothing
            account = store.account(session, member.email)
            assert account is not None
            account.last_sign_in_at = now
            store.save(session, account)
            self.guard.forget_account(session, member)
            self.vault.trail.record(session, at=now, actor=member.email, action="connexion")
        return Opened(token, Person(member, csrf, stage))

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
        member = habilitated_member(self.config, row.email, now)
        if member is None:  # left [[staff]], or its habilitation ended (`until`)
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
