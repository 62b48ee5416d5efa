"""Who is told what: the staff's emails, composed from facts and queued in the outbox within the
caller's transaction. Nothing personal: numeros, communes, dates and counts only."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from intake import vocabulary
from intake.config import Config
from intake.convention import deadlines
from intake.french import long_day, of_month
from intake.habilitation import habilitated
from notifier import outbox
from notifier.render import render
from storage import attestations as attestation_store
from storage import demandes as demandes_store
from storage.models import Attestation, Status

SIGNING_REMINDERS = (15, 7, 2)  # days before an attestation's legal deadline
REASON_TEXT = {
    "conservation-6-mois": "six mois après leur transmission",
    "fin-de-convention": "fin de la convention",
}


def _fr(day: date | None) -> str:
    return "—" if day is None else day.strftime("%d/%m/%Y")


@dataclass(frozen=True)
class Notices:
    config: Config

    # --- recipients --------------------------------------------------------------------------

    def recipients(self, duty: str, now: datetime, commune: str | None = None) -> list[str]:
        """The habilitated persons at `now` with this duty (for this commune if named)."""
        return [
            member.email
            for member in self.config.raw.staff
            if duty in member.duties
            and (commune is None or commune in self.config.staff_communes(member))
            and habilitated(member, now, self.config.timezone)
        ]

    @property
    def _domain(self) -> str:
        smtp = self.config.raw.smtp
        domain = smtp.sender.rpartition("@")[2] if smtp else ""
        return domain or f"{self.config.lieu.id.lower()}.intake"

    def _queue(
        self,
        session: Session,
        kind: str,
        key: str,
        recipients: list[str],
        template: str,
        now: datetime,
        report_month: str | None = None,
        attestation_id: int | None = None,
        **context: object,
    ) -> bool:
        console = self.config.raw.web.base_url
        rendered = render(
            template,
            lieu=self.config.lieu.name,
            console=console.rstrip("/") if console else None,
            **context,
        )
        return outbox.enqueue(
            session,
            kind=kind,
            dedupe_key=key,
            recipients=recipients,
            rendered=rendered,
            now=now,
            domain=self._domain,
            report_month=report_month,
            attestation_id=attestation_id,
        )

    # --- new demandes: one email per commune and batch ----------------------------------------

    def announce_new(self, session: Session, now: datetime) -> int:
        """Announce every received demande not announced yet, and mark it in the same
        transaction: a crash before commit leaves them for the next batch, never twice."""
        rows = demandes_store.unannounced(session)
        sent = 0
        tz = self.config.timezone
        for commune in sorted({r.commune for r in rows}):
            batch = [r for r in rows if r.commune == commune]
            numeros = [r.numero for r in batch]
            key = "nouvelles:" + hashlib.sha256(",".join(numeros).encode()).hexdigest()[:32]
            items = [
                {
                    "numero": r.numero,
                    "purge_due": _fr(r.purge_due),
                    "transmitted": _fr(
                        deadlines.local_date(r.transmitted_at, tz) if r.transmitted_at else None
                    ),
                }
                for r in batch
            ]
            sent += self._queue(
                session,
                "nouvelles-demandes",
                key,
                self.recipients("recipient", now, commune),
                "new_demandes",
                now,
                commune=commune,
                commune_name=self.config.commune_name(commune),
                numeros=numeros,
                items=items,
            )
            demandes_store.mark_announced(session, batch, now)
        return sent

    # --- the retrieval clock ------------------------------------------------------------------

    def deadline_alerts(self, session: Session, now: datetime, points: tuple[int, ...]) -> int:
        """At each point before the deadline (the nearest one passed, once) and every day
        once overdue, for each demande the extranet still holds for the lieu."""
        today = deadlines.local_date(now, self.config.timezone)
        queued = 0
        for row in demandes_store.still_owed(session):
            assert row.retrieval_due is not None
            left = (row.retrieval_due - today).days
            if left < 0:
                key = f"retard:{row.numero}:{today.isoformat()}"
            else:
                passed = [p for p in points if left <= p]
                if not passed:
                    continue
                key = f"echeance:{row.numero}:J-{min(passed)}"
            reason = ""
            if row.status == Status.QUARANTINED:
                reason = (
                    "Elle a été refusée au contrôle automatique (règle "
                    f"« {vocabulary.rule(row.refusal_code)} ») : "
                    "elle n'a donc pas été acquittée et reste sur l'extranet."
                )
            queued += self._queue(
                session,
                "echeance",
                key,
                self.recipients("recipient", now, row.commune),
                "deadline",
                now,
                numero=row.numero,
                commune=row.commune,
                commune_name=self.config.commune_name(row.commune),
                due=_fr(row.retrieval_due),
                due_day=long_day(row.retrieval_due),
                overdue=left < 0,
                late_days=-left,
                remaining=left,
                days=self.config.retrieval_days,
                reason=reason,
            )
        return queued

    # --- destruction attestations, for the signatories ----------------------------------------

    def attestation_reminders(self, session: Session, now: datetime) -> int:
        """A new attestation is announced once; then a reminder at each point of
        `SIGNING_REMINDERS` the signatories had not yet passed when it was drafted, and every
        day once late, when the admins are told too (once)."""
        tz = self.config.timezone
        today = deadlines.local_date(now, tz)
        queued = 0
        for attestation in attestation_store.drafted(session):
            if attestation.signed_at is not None:
                continue
            assert attestation.sign_by is not None and attestation.drafted_at is not None
            left = (attestation.sign_by - today).days
            window = (attestation.sign_by - deadlines.local_date(attestation.drafted_at, tz)).days
            passed = [p for p in SIGNING_REMINDERS if left <= p < window]
            if left < 0:
                key = f"attestation-retard:{attestation.id}:{today.isoformat()}"
                queued += self._late_attestation_to_admins(session, now, attestation, -left)
            elif passed:
                key = f"attestation-rappel:{attestation.id}:J-{min(passed)}"
            else:
                key = f"attestation-nouvelle:{attestation.id}"
            queued += self._queue(
                session,
                "attestation",
                key,
                self.recipients("signatory", now),
                "attestation",
                now,
                attestation_id=attestation.id,
                id=attestation.id,
                demandes=attestation.demandes,
                sign_by=_fr(attestation.sign_by),
                sign_by_day=long_day(attestation.sign_by),
                reason=REASON_TEXT.get(attestation.reason, attestation.reason),
                reminder=bool(passed),
                remaining=left,
                late_days=max(-left, 0),
                overdue_since=_overdue_since(attestation, tz),
            )
        return queued

    def _late_attestation_to_admins(
        self, session: Session, now: datetime, attestation: Attestation, late_days: int
    ) -> int:
        signatories = ", ".join(self.recipients("signatory", now))
        return int(
            self._queue(
                session,
                "technique",
                f"attestation-retard-admin:{attestation.id}",
                self.recipients("admin", now),
                "technical",
                now,
                headline=f"Attestation de destruction n° {attestation.id} non signée dans le délai",
                detail=f"L'attestation n° {attestation.id} ({attestation.demandes} demande(s) "
                f"détruite(s)) devait être signée au plus tard le {long_day(attestation.sign_by)} "
                f"(article 2 de la convention) ; elle ne l'est toujours pas ({late_days} jour(s) "
                f"de retard). Signataires prévenus chaque jour : {signatories or 'aucun'}.",
                action="faire signer l'attestation par une personne habilitée "
                "(intake attestations pour l'état de toutes).",
            )
        )

    def attestation_to_caf(self, session: Session, now: datetime, attestation: Attestation) -> bool:
        """A signed attestation, sent to the Caf's partner contact with its PDF; the outbox
        row, once sent, is the record of its sending."""
        caf = self.config.raw.caf
        if caf is None or attestation.signed_at is None:
            return False
        return self._queue(
            session,
            "attestation-caf",
            f"attestation-caf:{attestation.id}",
            [caf.email],
            "attestation_caf",
            now,
            attestation_id=attestation.id,
            id=attestation.id,
            lieu_id=self.config.lieu.id,
            signer=attestation.signed_by,
            signed_on_day=long_day(
                deadlines.local_date(attestation.signed_at, self.config.timezone)
            ),
            how="signature électronique"
            if attestation.signature_kind == "pades"
            else "signée à la main",
            demandes=attestation.demandes,
            reason=REASON_TEXT.get(attestation.reason, attestation.reason),
        )

    def annexe1(self, session: Session, now: datetime, text: str, version: str) -> bool:
        """The new annexe 1, once per version of the staff list: to the Caf when its address
        is configured (for the admins to forward otherwise), the admins in copy."""
        caf = self.config.raw.caf
        recipients = self.recipients("admin", now) + ([caf.email] if caf else [])
        return self._queue(
            session,
            "annexe1",
            f"annexe1:{version}",
            recipients,
            "annexe1",
            now,
            lieu_id=self.config.lieu.id,
            annexe=text,
        )

    def calendar_reminder(
        self, session: Session, now: datetime, key: str, day: str, what: str, before: int
    ) -> bool:
        return self.technical(
            session,
            now,
            f"calendrier:{key}:J-{before}",
            f"Échéance de la convention le {day} (dans {before} jour{'s' if before > 1 else ''})",
            what,
            "voir « intake calendar » pour toutes les échéances.",
        )

    # --- the monthly report, for the admins and the signatories ---------------------------------

    def monthly_report(
        self, session: Session, now: datetime, month: str, label: str, late_since: str | None = None
    ) -> bool:
        recipients = sorted(set(self.recipients("admin", now) + self.recipients("signatory", now)))
        return self._queue(
            session,
            "rapport",
            f"rapport:{month}",
            recipients,
            "report",
            now,
            report_month=month,
            month=label,
            of_month=of_month(label),
            stem=f"rapport-{month}",
            late_since=late_since,
            made_on=_fr(deadlines.local_date(now, self.config.timezone)),
        )

    # --- technical alerts, for the admins -----------------------------------------------------

    def _today(self, now: datetime) -> str:
        """The lieu's day, for the keys that say "once a day": a UTC day would start at 01:00
        or 02:00 in Paris, 04:00 in La Réunion, and at 21:00 the day before in Cayenne."""
        return deadlines.local_date(now, self.config.timezone).isoformat()

    def technical(
        self,
        session: Session,
        now: datetime,
        key: str,
        headline: str,
        detail: str,
        action: str,
        also: list[str] | None = None,
    ) -> bool:
        recipients = self.recipients("admin", now) + list(also or [])
        return self._queue(
            session,
            "technique",
            key,
            recipients,
            "technical",
            now,
            headline=headline,
            detail=detail,
            action=action,
        )

    def account_stopped(
        self, session: Session, now: datetime, account: str, code: str, message: str
    ) -> bool:
        actions = {
            "identifiants-invalides": "vérifier le mot de passe configuré "
            "(extranet.password_env) ; le compte n'est plus utilisé "
            "tant qu'il n'a pas changé, pour ne pas le verrouiller.",
            "mot-de-passe-a-changer": f"{account} doit changer son mot de passe sur l'extranet, "
            "puis mettre le nouveau dans la configuration.",
            "compte-bloque": "demander à la Caf de débloquer le compte ; il sera réessayé une "
            "fois par jour.",
        }
        also = [account] if code == "mot-de-passe-a-changer" else []
        return self.technical(
            session,
            now,
            f"compte:{account}:{code}:{self._today(now)}",
            f"Extranet : compte {account} arrêté ({code})",
            message,
            actions.get(code, "vérifier le compte sur l'extranet."),
            also,
        )

    def commune_refused(self, session: Session, now: datetime, insee: str) -> bool:
        name = self.config.commune_name(insee)
        return self.technical(
            session,
            now,
            f"commune-non-habilitee:{insee}:{self._today(now)}",
            f"Extranet : compte non habilité pour {name} ({insee})",
            f"L'extranet refuse l'accès aux demandes de {name} pour le compte configuré ; "
            "les autres communes sont récupérées normalement.",
            "vérifier l'annexe 1 de la convention et l'habilitation du compte auprès de la Caf.",
        )

    def extranet_unreachable(
        self, session: Session, now: datetime, insee: str, since: datetime, code: str
    ) -> bool:
        name = self.config.commune_name(insee)
        local = since.astimezone(self.config.timezone)
        return self.technical(
            session,
            now,
            f"injoignable:{insee}:{since.isoformat()}",
            f"Extranet injoignable pour {name} depuis le {local:%d/%m/%Y à %H:%M}",
            f"Les récupérations de {name} ({insee}) échouent depuis le "
            f"{local:%d/%m/%Y à %H:%M} (dernière erreur : {code}). Les délais de récupération "
            "continuent de courir.",
            "vérifier l'accès réseau du serveur et l'état de l'extranet ; un seul message est "
            "envoyé par panne.",
        )

    def unexpected_error(
        self, session: Session, now: datetime, insee: str, since: datetime, kind: str
    ) -> bool:
        name = self.config.commune_name(insee)
        local = since.astimezone(self.config.timezone)
        return self.technical(
            session,
            now,
            f"erreur-interne:{insee}:{since.isoformat()}",
            f"Erreur inattendue en récupérant {name} ({insee})",
            f"La récupération des demandes de {name} ({insee}) a échoué le "
            f"{local:%d/%m/%Y à %H:%M} sur une erreur inattendue ({kind or 'inconnue'}). "
            "Ce qui n'a pas été enregistré n'est pas acquitté : l'extranet le garde et chaque "
            "passage réessaie. Les délais de récupération continuent de courir.",
            "consulter le journal du service (journalctl -u intake) et signaler l'erreur ; "
            "`intake status` la montre tant qu'elle dure. Un seul message est envoyé par "
            "épisode.",
        )

    def delivery_failed(self, session: Session, now: datetime, message_ids: list[int]) -> bool:
        return self.technical(
            session,
            now,
            "courriels-en-echec:" + ",".join(map(str, message_ids)),
            f"{len(message_ids)} courriel(s) non distribué(s)",
            "Des courriels de monenfant-intake n'ont pas pu être distribués après plusieurs "
            "tentatives ; `intake status` les compte.",
            "vérifier la section [smtp] de la configuration et les adresses de [[staff]].",
        )


def _overdue_since(attestation: Attestation, tz: ZoneInfo) -> str | None:
    """The first purge day, when the attestation was drafted after it: these demandes were
    destroyed late (the service was down, or they came too late to go on time)."""
    assert attestation.drafted_at is not None
    first = attestation.first_purge_due
    if first is None or deadlines.local_date(attestation.drafted_at, tz) <= first:
        return None
    return _fr(first)
