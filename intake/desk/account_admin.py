"""The administrators' side of the console accounts (`/comptes`): who has which account and in
which state, and the actions that help a colleague: clear a sign-in delay, send a one-time
link to choose a password, enrol a second factor, end every session.

Only a person of [[staff]] with the `admin` duty may look or act; a refusal is audited. Every
action is an audit event naming the administrator and the colleague (addresses of the staff,
nothing of the families). A password link is a random token sent by email through the outbox:
only its SHA-256 is kept, it lasts 30 minutes and is deleted when used.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from intake.clock import Clock
from intake.config import Config, StaffSection
from intake.desk import throttle
from intake.desk.access import AccessDenied, record_refusal
from intake.desk.accounts import MIN_PASSWORD, AccountError, Accounts
from intake.habilitation import outside_period
from notifier import outbox
from notifier.render import render
from storage import accounts as store
from storage.db import transaction
from storage.models import PasswordLink
from storage.vault import Vault

LINK_LIFETIME = timedelta(minutes=30)
LINK_INVALID = (
    "ce lien n'est pas ou plus valable (30 minutes, une seule fois) : demandez-en un nouveau "
    "à un administrateur"
)


@dataclass(frozen=True)
class AccountState:
    """One person of [[staff]] and their console account."""

    member: StaffSection
    has_password: bool
    totp: bool
    last_sign_in_at: datetime | None
    slowed_until: datetime | None  # sign-ins of the account wait until then
    sessions: int

    @property
    def state(self) -> str:
        """« actif » only for an account that can sign in now."""
        if not self.has_password:
            return "sans mot de passe"
        if self.slowed_until is not None:
            return "ralenti"
        return "actif"

    def habilitated(self, now: datetime, zone: ZoneInfo) -> bool:
        return outside_period(self.member, now, zone) is None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def account_states(config: Config, engine: Engine, now: datetime) -> list[AccountState]:
    """Every person of [[staff]] with their account's state (also for `intake staff list`)."""
    with transaction(engine) as session:
        accounts = store.accounts(session)
        sessions = store.session_counts(session)
        delays = {}
        for member in config.raw.staff:
            row = store.throttle(session, throttle.account_key(member.email))
            if row is not None and throttle.blocked(row, now):
                delays[member.email.casefold()] = row.blocked_until
    states = []
    for member in sorted(config.raw.staff, key=lambda m: m.name.casefold()):
        key = member.email.casefold()
        account = accounts.get(key)
        states.append(
            AccountState(
                member,
                account is not None,
                bool(account and account.totp_secret),
                account.last_sign_in_at if account else None,
                delays.get(key),
                sessions.get(key, 0),
            )
        )
    return states


@dataclass(frozen=True)
class AccountAdmin:
    config: Config
    engine: Engine
    vault: Vault
    clock: Clock

    def _admin(self, actor: str, action: str) -> StaffSection:
        member = self.config.staff_member(actor)
        now = self.clock.now()
        if (
            member is None
            or "admin" not in member.duties
            or outside_period(member, now, self.config.timezone) is not None
        ):
            record_refusal(
                self.engine, self.vault, self.config, actor, self.clock.now(),
                action=action, motif="role",
            )  # fmt: skip
            raise AccessDenied("page réservée aux administrateurs (fonction « admin »)")
        return member

    def _colleague(self, email: str) -> StaffSection:
        member = self.config.staff_member(email)
        if member is None:
            raise AccountError(f"{email} n'est pas une personne de la configuration ([[staff]])")
        return member

    def _record(self, admin: StaffSection, action: str, colleague: StaffSection) -> None:
        with transaction(self.engine) as session:
            self.vault.trail.record(
                session,
                at=self.clock.now(),
                actor=admin.email,
                action=action,
                detail={"compte": colleague.email},
            )

    def listing(self) -> list[AccountState]:
        """Every account's state, for the system's own reading (`intake staff list`)."""
        return account_states(self.config, self.engine, self.clock.now())

    def overview(self, actor: str) -> list[AccountState]:
        self._admin(actor, "comptes")
        return account_states(self.config, self.engine, self.clock.now())

    def unlock(self, actor: str, email: str) -> StaffSection:
        """Clear the account's sign-in delay (its source addresses keep theirs)."""
        admin, colleague = self._admin(actor, "compte-debloque"), self._colleague(email)
        with transaction(self.engine) as session:
            store.forget_throttles(session, [throttle.account_key(colleague.email)])
            self.vault.trail.record(
                session,
                at=self.clock.now(),
                actor=admin.email,
                action="compte-debloque",
                detail={"compte": colleague.email},
            )
        return colleague

    def revoke_sessions(self, actor: str, email: str) -> StaffSection:
        admin, colleague = self._admin(actor, "sessions-fermees"), self._colleague(email)
        with transaction(self.engine) as session:
            store.end_sessions_of(session, colleague.email)
            self.vault.trail.record(
                session,
                at=self.clock.now(),
                actor=admin.email,
                action="sessions-fermees",
                detail={"compte": colleague.email},
            )
        return colleague

    def enrol_totp(self, actor: str, email: str) -> tuple[StaffSection, str]:
        """A new second factor for the colleague: the provisioning URI, to show once."""
        admin, colleague = self._admin(actor, "totp-enrole"), self._colleague(email)
        uri = Accounts(self.config, self.engine, self.vault, self.clock).enable_totp(
            colleague.email
        )
        self._record(admin, "totp-enrole", colleague)
        return colleague, uri

    def send_password_link(self, actor: str, email: str) -> StaffSection:
        """Email the colleague a one-time link to choose a password (their own address in
        [[staff]] only), in the same transaction as the link it carries; the link opens the
        console at its configured address ([web] base_url)."""
        console = self.config.raw.web.base_url
        if not console:
            raise AccountError(
                "l'adresse de la console ([web] base_url) n'est pas configurée : le lien ne peut "
                "pas être envoyé (intake staff password ADRESSE le fait en ligne de commande)"
            )
        admin, colleague = self._admin(actor, "lien-mot-de-passe"), self._colleague(email)
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        link = f"{console.rstrip('/')}/mot-de-passe/{token}"
        rendered = render(
            "password_link",
            lieu=self.config.lieu.name,
            console=console.rstrip("/"),
            name=colleague.name,
            email=colleague.email,
            admin=admin.name,
            link=link,
        )
        with transaction(self.engine) as session:
            store.forget_password_links(session, colleague.email)
            store.save(
                session,
                PasswordLink(
                    token_hash=_digest(token),
                    email=colleague.email.casefold(),
                    created_by=admin.email,
                    created_at=now,
                    expires_at=now + LINK_LIFETIME,
                ),
            )
            outbox.enqueue(
                session,
                kind="mot-de-passe",
                dedupe_key=f"mot-de-passe:{_digest(token)[:32]}",
                recipients=[colleague.email],
                rendered=rendered,
                now=now,
                domain=self._domain,
            )
            self.vault.trail.record(
                session,
                at=now,
                actor=admin.email,
                action="lien-mot-de-passe",
                detail={"compte": colleague.email},
            )
        return colleague

    @property
    def _domain(self) -> str:
        smtp = self.config.raw.smtp
        domain = smtp.sender.rpartition("@")[2] if smtp else ""
        return domain or f"{self.config.lieu.id.lower()}.intake"

    def link_holder(self, token: str) -> StaffSection:
        """Whose link this is, while it is valid (for the page that asks the password)."""
        with transaction(self.engine) as session:
            row = store.password_link_for_update(session, _digest(token))
            return self._valid(row)

    def _valid(self, row: PasswordLink | None) -> StaffSection:
        if row is None or row.expires_at <= self.clock.now():
            raise AccountError(LINK_INVALID)
        member = self.config.staff_member(row.email)
        if member is None:
            raise AccountError(LINK_INVALID)
        return member

    def set_password_with_link(self, token: str, password: str) -> StaffSection:
        """The password chosen through a link: the link is spent (deleted) in the same
        transaction that checks it, so that two uses of it never both succeed."""
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"mot de passe trop court : {MIN_PASSWORD} caractères au moins")
        with transaction(self.engine) as session:
            row = store.password_link_for_update(session, _digest(token))
            member = self._valid(row)
            store.forget_password_links(session, member.email)
        # Its own transaction: it hashes (Argon2), ends the sessions and is audited.
        return Accounts(self.config, self.engine, self.vault, self.clock).set_password(
            member.email, password
        )
