"""The sign-in's guard: the throttles of one attempt, locked for its transaction, the
failures counted on them, and what a new delay sets off (the waiting sessions ended, an audit
event, the administrators' email once per episode). The rules of the delays are in
`intake.desk.throttle`; the steps of signing in, in `intake.desk.accounts`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from intake.config import Config, StaffSection
from intake.convention.notices import Notices
from intake.desk import throttle
from storage import accounts as store
from storage.db import transaction
from storage.models import SignInThrottle
from storage.vault import Vault

UNKNOWN_ACTOR = "inconnu:non-habilite"


@dataclass(frozen=True)
class Throttles:
    """One attempt's throttles: its source address's, and its account's when the address is
    a real account's (a stranger's typing leaves no row behind)."""

    source: SignInThrottle
    account: SignInThrottle | None

    def blocked(self, now: datetime) -> bool:
        return any(throttle.blocked(row, now) for row in (self.source, self.account) if row)


@dataclass(frozen=True)
class Guard:
    config: Config
    engine: Engine
    vault: Vault

    def forget_quiet(self, now: datetime) -> None:
        """Housekeeping in a transaction of its own: it waits for no row (SKIP LOCKED) and
        holds none while a sign-in takes its own, so two sign-ins never deadlock over it."""
        with transaction(self.engine) as session:
            store.forget_quiet_throttles(session, now - throttle.QUIET)

    def lock(
        self, session: Session, member: StaffSection | None, source: str, now: datetime
    ) -> Throttles:
        """The attempt's throttles, locked until its transaction ends: every attempt at one
        account waits for the one before to be checked and counted."""
        source_key = throttle.source_key(source)
        account_key = throttle.account_key(member.email) if member else None
        keys = [source_key] + ([account_key] if account_key else [])
        rows = {row.key: row for row in store.throttles_for_update(session, keys)}
        for row in rows.values():
            throttle.settle(row, now)
        return Throttles(rows[source_key], rows[account_key] if account_key else None)

    def fail(
        self,
        session: Session,
        member: StaffSection | None,
        throttles: Throttles,
        now: datetime,
        code: bool = False,
    ) -> bool:
        """Count a failure for the source and the account; True if it set the account's
        delay, which ends its sessions waiting for a code and tells the administrators."""
        throttle.fail(throttles.source, now, throttle.SOURCE_FREE)
        store.save(session, throttles.source)
        account = throttles.account
        delay = None
        if account is not None:
            delay = throttle.fail(account, now, throttle.ACCOUNT_FREE)
            store.save(session, account)
        if member is None or account is None or delay is None:
            motif = "code" if code else "identifiants"
            self.record(session, member, now, "connexion-refusee", motif=motif)
            return False
        store.end_sessions_of(session, member.email, stage="code")
        minutes = int(delay.total_seconds() // 60)
        failures = account.failures
        self.record(session, member, now, "compte-verrouille", echecs=failures, minutes=minutes)
        assert account.first_failure_at is not None
        episode = f"connexion-attaque:{account.key[:32]}:{account.first_failure_at:%Y%m%dT%H%M%S}"
        self._alert(session, now, episode, member.email, failures, minutes)
        return True

    def _alert(
        self, session: Session, now: datetime, key: str, email: str, failures: int, minutes: int
    ) -> None:
        """Once per episode (`key`), to the administrators: the person's address only; never
        what was typed, nor from where."""
        Notices(self.config).technical(
            session,
            now,
            key,
            f"Console : connexions refusées à répétition pour le compte {email}",
            f"{failures} mots de passe ou codes erronés à la suite pour ce compte : c'est "
            "peut-être une attaque (quelqu'un essaie de deviner le mot de passe), ou la personne "
            f"qui se trompe. Chaque essai de ce compte attend désormais {minutes} minute(s), "
            "un délai qui double à chaque nouvel échec, jusqu'à 15 minutes ; il s'efface à la "
            "première connexion réussie ou après une heure sans échec. Vous ne serez pas "
            "prévenu à nouveau pour cette série.",
            f"demander à {email} si c'est bien elle ou lui ; sinon, lui faire changer son mot "
            f"de passe (intake staff password {email}, ce qui efface aussi le délai) et activer "
            f"le code à usage unique (intake staff totp {email}). Le journal d'audit de la "
            "console (/journal, action « connexion refusée ») montre les essais.",
        )

    def record(
        self,
        session: Session,
        member: StaffSection | None,
        now: datetime,
        action: str,
        **detail: str | int,
    ) -> None:
        """An audit event of the sign-in: never the password, code, address typed or source."""
        actor = member.email if member else UNKNOWN_ACTOR
        self.vault.trail.record(session, at=now, actor=actor, action=action, detail=detail)

    def forget_account(self, session: Session, member: StaffSection) -> None:
        """A sign-in, or a new password: the account's episode is over."""
        store.forget_throttles(session, [throttle.account_key(member.email)])
