"""Destroy on time and prove it (convention, article 2).

No personal datum outlives its purge day (`purge_due`: local date of the
transmission plus six months). Policy "monthly" (the default): from the first
day of a month, everything whose purge day falls in that month goes, so the
month's attestation has the whole month to be signed; every later run of the
same month catches what arrived or was missed since. Policy "daily": each
demande goes on its own purge day.

Destroying a demande deletes its data key and its ciphertexts; its row stays as
the tombstone (numero, commune, dates, reason) and names the one attestation
that covers it. Once the rows are committed, the keys of the purge days
destroyed (storage/keystore.py, outside the database) are deleted too, so that
no backup of the database can open those demandes again. Killed between the
two, the next purge deletes the files left (and a key whose day has passed is
never used). A purge works in batches, each its own transaction, under a draft
attestation; a purge interrupted half-way leaves a draft that the next purge
completes, so every destroyed demande is in exactly one attestation.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine
from sqlmodel import Session

from intake.clock import Clock
from intake.config import Config
from intake.convention import deadlines
from intake.habilitation import habilitated
from storage import anchors, audit, destruction, keyring
from storage import attestations as attestation_store
from storage.db import is_sqlite, transaction, truncate_wal
from storage.models import Attestation
from storage.vault import Vault

log = logging.getLogger(__name__)

RETENTION_REASON = "conservation-6-mois"
END_REASON = "fin-de-convention"
SIGNING_TIME = relativedelta(months=1)  # "dans le mois suivant ce délai"
# A copy of the key store may be kept no longer than the time between a purge and its
# attestation: once the attestation is due, no copy holds a key it says is destroyed.
KEY_COPY_KEPT = SIGNING_TIME
BATCH = 500
AUDIT_KEPT = relativedelta(months=12)  # the trail's own retention


def cutoff(today: date, policy: str) -> date:
    """The latest purge day a run on `today` destroys."""
    if policy == "daily":
        return today
    return today.replace(day=1) + relativedelta(months=1) - timedelta(days=1)


def next_run_day(purge_due: date, today: date, policy: str) -> date:
    """The day a demande with this purge day will be destroyed by the running policy."""
    day = purge_due if policy == "daily" else purge_due.replace(day=1)
    return max(day, today)


@dataclass(frozen=True)
class Planned:
    numero: str
    commune: str
    status: str
    purge_due: date
    goes_on: date


def missed_months(first_due: date | None, limit: date) -> list[date]:
    """The last days of the months before `limit`'s whose purge days came while nobody purged
    (the service was down): from the month of the earliest purge day still held."""
    if first_due is None:
        return []
    month, current = first_due.replace(day=1), limit.replace(day=1)
    ends = []
    while month < current:
        month += relativedelta(months=1)
        ends.append(month - timedelta(days=1))
    return ends


@dataclass(frozen=True)
class PurgeOutcome:
    purged: int
    attestation: int | None  # the last drafted by this run
    next_purge: date | None
    caught_up: tuple[int, ...] = ()  # attestations of months the service missed, oldest first


@dataclass(frozen=True)
class Retention:
    config: Config
    engine: Engine
    vault: Vault
    clock: Clock
    actor: str

    @property
    def policy(self) -> str:
        return self.config.raw.retention.policy

    def today(self) -> date:
        return deadlines.local_date(self.clock.now(), self.config.timezone)

    # --- what would go --------------------------------------------------------------------

    def plan(self) -> list[Planned]:
        """What this run would destroy (`goes_on` today), without changing anything."""
        today = self.today()
        limit = cutoff(today, self.policy)
        with transaction(self.engine) as session:
            rows = destruction.purgeable(session, limit, lock=False)
        return [Planned(r.numero, r.commune, r.status, r.purge_due, today) for r in rows]

    def work_left(self) -> bool:
        """Something still to destroy, or a final attestation left unfinished."""
        with transaction(self.engine) as session:
            return bool(
                destruction.purgeable(session, date.max, 1)
                or attestation_store.unfinished(session, END_REASON)
            )

    def next_purge(self, session: Session) -> date | None:
        first = destruction.next_purge_due(session)
        return None if first is None else next_run_day(first, self.today(), self.policy)

    # --- destroying -------------------------------------------------------------------------

    def purge(self) -> PurgeOutcome:
        """Destroy what the policy says must go today, and draft its attestation. Months whose
        purge was missed (the service was down) go first, each with its own attestation, as
        they would have on time; the log says so, and so does the signatories' email."""
        limit = cutoff(self.today(), self.policy)
        with transaction(self.engine) as session:
            first_due = destruction.next_purge_due(session)
        purged, caught_up = 0, []
        for month_end in missed_months(first_due, limit):
            missed = self._destroy(month_end, RETENTION_REASON)
            purged += missed.purged
            if missed.attestation is not None and missed.purged:
                caught_up.append(missed.attestation)
                log.warning(
                    "purge de rattrapage : %d demande(s) de %s détruite(s) après leur date "
                    "limite (service arrêté) ; attestation n° %s",
                    missed.purged,
                    f"{month_end:%m/%Y}",
                    missed.attestation,
                )
        outcome = self._destroy(limit, RETENTION_REASON)
        last = outcome.attestation or (caught_up[-1] if caught_up else None)
        return PurgeOutcome(purged + outcome.purged, last, outcome.next_purge, tuple(caught_up))

    def destroy_everything(self) -> PurgeOutcome:
        """The convention's end: every personal datum, now."""
        return self._destroy(date.max, END_REASON)

    def _destroy(self, limit: date, reason: str) -> PurgeOutcome:
        now = self.clock.now()
        with transaction(self.engine) as session:
            draft = attestation_store.unfinished(session, reason)
            if draft is None and not destruction.purgeable(session, limit, 1):
                idle = PurgeOutcome(0, None, self.next_purge(session))
            else:
                idle = None
                draft = draft or attestation_store.start(session, reason, now)
                draft_id = draft.id
        if idle is not None:
            self._destroy_keys(limit)  # a purge killed before it deleted them
            return idle
        assert draft_id is not None
        purged, after = 0, None
        while batch := self._destroy_batch(limit, reason, draft_id, after):
            purged += len(batch)
            last = batch[-1]
            after = (last.purge_due, last.numero)
        self._destroy_keys(limit)
        attestation = self._draft(draft_id, reason)
        self._anchor(attestation)
        self._scrub_files()
        with transaction(self.engine) as session:
            next_purge = self.next_purge(session)
        log.info("purge : %d demande(s) détruite(s), attestation %s", purged, attestation)
        return PurgeOutcome(purged, attestation, next_purge)

    def _destroy_batch(
        self, limit: date, reason: str, attestation_id: int, after: tuple[date, str] | None
    ) -> list[destruction.Due]:
        """The next batch after `after` destroyed in one transaction; its rows."""
        now = self.clock.now()
        with transaction(self.engine) as session:
            rows = destruction.purgeable(session, limit, BATCH, after=after)
            if not rows:
                return []
            numeros = [r.numero for r in rows]
            destruction.destroy_many(session, numeros)
            destruction.mark_purged(session, numeros, now, reason, attestation_id)
            self.vault.trail.record_many(
                session,
                actor=self.actor,
                events=[
                    (
                        now,
                        "destruction",
                        row.numero,
                        {"commune": row.commune, "motif": reason, "attestation": attestation_id},
                    )
                    for row in rows
                ],
            )
            return rows

    def _destroy_keys(self, limit: date) -> list[date]:
        """The purge days' keys up to `limit`, deleted from the key store (after the rows'
        commit), and the deletion recorded."""
        gone = self.vault.keys.destroy_through(limit)
        if gone:
            with transaction(self.engine) as session:
                self.vault.trail.record(
                    session,
                    at=self.clock.now(),
                    actor=self.actor,
                    action="destruction-cles",
                    detail={
                        "echeances": len(gone),
                        "premiere": gone[0].isoformat(),
                        "derniere": gone[-1].isoformat(),
                    },
                )
        return gone

    def _draft(self, attestation_id: int, reason: str) -> int | None:
        """Complete the draft: manifest, its digest, the chain's head, the PDF. A draft that
        covers nothing (another worker purged it all) is dropped."""
        now = self.clock.now()
        with transaction(self.engine) as session:
            attestation = attestation_store.get(session, attestation_id, for_update=True)
            if attestation is None or attestation.drafted_at is not None:
                return attestation_id if attestation is not None else None
            rows = attestation_store.covered(session, attestation_id)
            if not rows:
                attestation_store.drop(session, attestation)
                return None
            head = audit.head(session)
            attestation.sign_by = self._sign_by(rows, reason, now)
            manifest = self._manifest(session, attestation, rows, head)
            text = json.dumps(manifest, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            attestation.manifest = text
            attestation.manifest_sha256 = digest
            attestation.audit_seq, attestation.audit_hash = head
            attestation.demandes = len(rows)
            attestation.first_purge_due = min(r.purge_due for r in rows if r.purge_due)
            attestation.last_purge_due = max(r.purge_due for r in rows if r.purge_due)
            attestation.drafted_at = now
            from intake.retention import (
                attestation_pdf,  # fpdf2 only when there is something to lay out
            )

            attestation.pdf = attestation_pdf.render(
                manifest, digest, self._signatories(now), now.astimezone(self.config.timezone)
            )
            attestation_store.save(session, attestation)
            self.vault.trail.record(
                session,
                at=now,
                actor=self.actor,
                action="attestation",
                detail={
                    "attestation": attestation_id,
                    "demandes": len(rows),
                    "manifeste_sha256": digest,
                    "signer_avant": attestation.sign_by.isoformat(),
                },
            )
            return attestation_id

    def _anchor(self, attestation_id: int | None) -> None:
        """The head printed in the attestation, appended to the anchors beside the key."""
        if attestation_id is None:
            return
        with transaction(self.engine) as session:
            attestation = attestation_store.get(session, attestation_id)
        if attestation is None or attestation.audit_seq is None or attestation.audit_hash is None:
            return
        anchors.append(
            anchors.anchors_file(self.config.key_file),
            (attestation.audit_seq, attestation.audit_hash),
            f"attestation-{attestation_id}",
            self.clock.now(),
        )

    def _sign_by(
        self, rows: Sequence[attestation_store.Covered], reason: str, now: datetime
    ) -> date:
        if reason == END_REASON:
            return deadlines.local_date(now, self.config.timezone) + SIGNING_TIME
        return min(r.purge_due for r in rows if r.purge_due) + SIGNING_TIME

    def _manifest(
        self,
        session: Session,
        attestation: Attestation,
        rows: Sequence[attestation_store.Covered],
        head: tuple[int, str],
    ) -> dict[str, Any]:
        tz = self.config.timezone

        def day(instant: datetime | None) -> str | None:
            return deadlines.local_date(instant, tz).isoformat() if instant else None

        destroyed = sorted({d for r in rows if (d := day(r.purged_at)) is not None})
        return {
            "attestation": attestation.id,
            "motif": attestation.reason,
            "lieu": {"id": self.config.lieu.id, "nom": self.config.lieu.name},
            "convention": {"signee_le": self.config.raw.convention.signed_on.isoformat()},
            "communes": {c.insee: c.name for c in self.config.raw.communes},
            "periode": {
                "premiere_echeance": min(r.purge_due for r in rows if r.purge_due).isoformat(),
                "derniere_echeance": max(r.purge_due for r in rows if r.purge_due).isoformat(),
                "destruction_debut": destroyed[0],
                "destruction_fin": destroyed[-1],
            },
            "signer_avant": attestation.sign_by.isoformat() if attestation.sign_by else None,
            "cles": {
                # One key per purge day, kept outside the database: each day's key was deleted
                # when its demandes were, so no backup of the database can open them.
                "echeances_detruites": sorted(
                    {r.purge_due.isoformat() for r in rows if r.purge_due}
                ),
                "detruites_le": destroyed[-1],
                "copies_magasin_jusqu_au": (
                    date.fromisoformat(destroyed[-1]) + KEY_COPY_KEPT
                ).isoformat(),
                "cle_maitresse_jusqu_au": _older_than_key_store(session, rows, tz),
            },
            "journal_audit": {"sequence": head[0], "empreinte": head[1]},
            "copies": _copies(session, rows, self.config.timezone),
            "demandes": [
                {
                    "numero": r.numero,
                    "commune": r.commune,
                    "transmise": day(r.transmitted_at),
                    "echeance": r.purge_due.isoformat() if r.purge_due else None,
                    "detruite": day(r.purged_at),
                }
                for r in rows
            ],
        }

    def _signatories(self, now: datetime) -> list[dict[str, str]]:
        """Who may sign the draft: the signatories habilitated when it is made."""
        return [
            {"name": m.name, "function": m.function, "email": m.email}
            for m in self.config.raw.staff
            if "signatory" in m.duties and habilitated(m, now, self.config.timezone)
        ]

    def _scrub_files(self) -> None:
        """SQLite: fold the WAL into the database file and empty it, so that the old frames
        holding destroyed pages are gone from the disk too (secure_delete zeroed the pages)."""
        if not is_sqlite(self.engine):
            return  # PostgreSQL: the data keys are gone, what VACUUM has not reused is noise
        truncate_wal(self.engine)


def _copies(
    session: Session, rows: Sequence[attestation_store.Covered], tz: ZoneInfo
) -> list[dict[str, str]]:
    """Copies that left the vault (exports, PDFs): the signatory confirms they are gone."""
    return [
        {
            "numero": e.numero or "",
            "le": deadlines.local_date(e.at, tz).isoformat(),
            "par": e.actor,
            "nature": "export" if e.action == "export" else "PDF",
        }
        for e in audit.copies_of(session, [r.numero for r in rows])
    ]


def prune_audit(engine: Engine, vault: Vault, now: datetime, actor: str) -> int:
    """Audit events older than `AUDIT_KEPT` go, behind a checkpoint sealed by the master key."""
    with transaction(engine) as session:
        return vault.trail.prune(session, before=now - AUDIT_KEPT, now=now, actor=actor)


def _older_than_key_store(session: Session, rows: Sequence[Any], zone: ZoneInfo) -> str | None:
    """The day this database's data keys were re-wrapped by purge-day keys, when some of these
    demandes were stored before it: a database backup from before that day holds their keys
    wrapped by the master key, and the attestation must not claim otherwise."""
    converted = audit.last_event_at(session, actor=keyring.SYSTEM_ACTOR, action="cles-par-echeance")
    # Transmitted before the conversion is the cautious test: stored later, it never was
    # under the master key alone, and the attestation then only says a little too much.
    if converted is None or not any(
        r.transmitted_at is None or r.transmitted_at < converted for r in rows
    ):
        return None
    return converted.astimezone(zone).date().isoformat()
