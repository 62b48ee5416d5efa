"""Attestations once drafted: who signs them, how, and whether in time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine
from sqlmodel import Session

from intake.clock import Clock
from intake.config import Config, StaffSection
from intake.convention import deadlines
from intake.convention.notices import Notices
from intake.desk.access import AccessDenied, NotHeld, authorize_audited, record_refusal
from intake.desk.access import sees_every_commune as sees_all
from intake.habilitation import outside_period
from intake.retention import scan, signing
from intake.retention.signing import SignatureRefused
from storage import attestations as store
from storage.db import transaction
from storage.models import Attestation
from storage.vault import Vault


@dataclass(frozen=True)
class Summary:
    id: int
    reason: str
    created_at: str
    demandes: int
    sign_by: date
    state: str
    signed_by: str | None
    signed_at: str | None
    signature_kind: str | None


@dataclass(frozen=True)
class Attestations:
    config: Config
    engine: Engine
    vault: Vault
    clock: Clock

    def today(self) -> date:
        return deadlines.local_date(self.clock.now(), self.config.timezone)

    def listing(self) -> list[Summary]:
        today = self.today()
        with transaction(self.engine) as session:
            return [self._summary(a, today) for a in store.drafted(session)]

    def _summary(self, a: Attestation, today: date) -> Summary:
        assert a.id is not None and a.sign_by is not None and a.drafted_at is not None
        tz = self.config.timezone
        return Summary(
            id=a.id,
            reason=a.reason,
            created_at=a.drafted_at.astimezone(tz).isoformat(),
            demandes=a.demandes,
            sign_by=a.sign_by,
            state=store.state(a, today),
            signed_by=a.signed_by,
            signed_at=a.signed_at.astimezone(tz).isoformat() if a.signed_at else None,
            signature_kind=a.signature_kind,
        )

    def visible(self, agent: str) -> list[Summary]:
        """The attestations an agent may open: those covering at least one of her communes
        (one attestation covers a whole purge, of every commune); all of them for a
        signatory or an admin, who answer for the lieu."""
        member = authorize_audited(
            self.engine, self.vault, self.config, agent, self.clock.now(), action="attestation"
        )
        summaries = self.listing()
        if sees_all(member):
            return summaries
        theirs = self.config.staff_communes(member)
        with transaction(self.engine) as session:
            covered = store.communes_covered(session, [s.id for s in summaries])
        return [s for s in summaries if covered[s.id] & theirs]

    def document_for(self, attestation_id: int, agent: str) -> bytes:
        """`document`, for an agent allowed to see it (as `visible`); a refusal is audited."""
        now = self.clock.now()
        member = authorize_audited(
            self.engine, self.vault, self.config, agent, now, action="attestation"
        )
        with transaction(self.engine) as session:
            attestation = store.get(session, attestation_id)
            if attestation is None or attestation.drafted_at is None:
                raise NotHeld(f"aucune attestation n° {attestation_id}")
            covered = store.communes_covered(session, [attestation_id])[attestation_id]
        if not sees_all(member) and not covered & self.config.staff_communes(member):
            record_refusal(
                self.engine, self.vault, self.config, agent, now,
                action="attestation", motif="commune", detail={"attestation": attestation_id},
            )  # fmt: skip
            raise AccessDenied(
                f"{member.email} : l'attestation n° {attestation_id} ne couvre aucune de vos "
                "communes ; un signataire ou un administrateur peut la consulter"
            )
        return self.document(attestation_id)

    def document(self, attestation_id: int) -> bytes:
        """The signed copy once there is one, else the draft to sign."""
        with transaction(self.engine) as session:
            attestation = self._drafted(session, attestation_id)
            return attestation.signed_pdf or attestation.pdf or b""

    def sign(
        self, attestation_id: int, signer: str, pkcs12_data: bytes, passphrase: str | None
    ) -> Summary:
        now = self.clock.now()
        member = self._signatory(signer, attestation_id)
        credentials = signing.load_pkcs12(pkcs12_data, passphrase)
        try:
            signing.check_certificate(credentials, member.email, now)
        except signing.NotTheirs:
            self._refused(signer, attestation_id, "certificat")
            raise
        with transaction(self.engine) as session:
            attestation = self._unsigned(session, attestation_id)
            assert attestation.pdf is not None
            local = now.astimezone(self.config.timezone)
            signed = signing.sign_pades(
                attestation.pdf, pkcs12_data, passphrase, member.name, local
            )
            return self._record(session, attestation, member.email, signed, "pades")

    def record_signed(self, attestation_id: int, signer: str, copy: bytes) -> Summary:
        """A copy signed by hand, kept and sent to the Caf only if it is this attestation's
        (`scan.accept`: every page carries its code); a refused copy is audited. Read outside
        the transaction: decoding a scan takes seconds, and the row stays unlocked meanwhile."""
        member = self._signatory(signer, attestation_id)
        with transaction(self.engine) as session:
            draft = self._unsigned(session, attestation_id)
            pdf, digest = draft.pdf, draft.manifest_sha256
        assert pdf is not None and digest is not None
        if copy == pdf:
            raise SignatureRefused(
                "ce fichier est le projet d'attestation lui-même, non signé : imprimez-le, "
                "signez-le, numérisez-le, puis déposez cette copie"
            )
        try:
            accepted = scan.accept(copy, attestation_id, digest, scan.page_count(pdf))
        except SignatureRefused:
            self._refused(signer, attestation_id, "copie-non-reconnue")
            raise
        with transaction(self.engine) as session:
            attestation = self._unsigned(session, attestation_id)
            return self._record(session, attestation, member.email, accepted, "manuscrite")

    def _record(
        self, session: Session, attestation: Attestation, signer: str, pdf: bytes, kind: str
    ) -> Summary:
        now = self.clock.now()
        attestation.signed_pdf = pdf
        attestation.signed_by = signer
        attestation.signed_at = now
        attestation.signature_kind = kind
        store.save(session, attestation)
        today = deadlines.local_date(now, self.config.timezone)
        assert attestation.sign_by is not None
        self.vault.trail.record(
            session,
            at=now,
            actor=signer,
            action="signature-attestation",
            detail={
                "attestation": attestation.id,
                "signature": kind,
                "dans_les_delais": today <= attestation.sign_by,
                "manifeste_sha256": attestation.manifest_sha256,
            },
        )
        Notices(self.config).attestation_to_caf(session, now, attestation)
        return self._summary(attestation, today)

    def _refused(self, signer: str, attestation_id: int, motif: str) -> None:
        """A refused signature is a refused access: audited, as every refusal."""
        record_refusal(
            self.engine, self.vault, self.config, signer, self.clock.now(),
            action="signature-attestation", motif=motif, detail={"attestation": attestation_id},
        )  # fmt: skip

    def may_sign(self, email: str) -> bool:
        """Whether the console offers this person the signature forms."""
        member = self.config.staff_member(email)
        return member is not None and "signatory" in member.duties

    def signatory(self, email: str, attestation_id: int) -> StaffSection:
        """The person, if they may sign attestations at all (a refusal is audited): checked
        before the terminal asks them who they are."""
        return self._signatory(email, attestation_id)

    def _signatory(self, email: str, attestation_id: int) -> StaffSection:
        member = self.config.staff_member(email)
        if member is None or "signatory" not in member.duties:
            self._refused(email, attestation_id, "role")
            raise SignatureRefused(
                f"{email} n'est pas signataire habilité : il faut une personne de [[staff]] "
                "avec le rôle « signatory »"
            )
        if (why := outside_period(member, self.clock.now(), self.config.timezone)) is not None:
            self._refused(email, attestation_id, "hors-periode")
            raise SignatureRefused(f"{why} : aucune signature hors de la période d'habilitation")
        return member

    def _drafted(self, session: Session, attestation_id: int) -> Attestation:
        attestation = store.get(session, attestation_id, for_update=True)
        if attestation is None or attestation.drafted_at is None:
            raise SignatureRefused(f"aucune attestation n° {attestation_id}")
        return attestation

    def _unsigned(self, session: Session, attestation_id: int) -> Attestation:
        attestation = self._drafted(session, attestation_id)
        if attestation.signed_at is not None:
            when = attestation.signed_at.astimezone(self.config.timezone)
            raise SignatureRefused(
                f"l'attestation n° {attestation_id} est déjà signée par {attestation.signed_by} "
                f"le {when:%d/%m/%Y}"
            )
        return attestation
