"""The sandbox extranet's state: its accounts, its demandes by commune, the faults it injects,
and the notification email it sends when a demande arrives (`extranet-v1.md`)."""

from __future__ import annotations

import email.policy
import hashlib
import logging
import random
import smtplib
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from intake.clock import SystemClock
from intake.sandbox.families import SandboxDemande, make_demande

log = logging.getLogger(__name__)

NOTIFICATION_SENDER = "ne-pas-repondre@monenfant.example"
PARIS = ZoneInfo("Europe/Paris")


@dataclass
class Account:
    email: str
    password: str
    communes: frozenset[str]
    state: str | None = None  # "mot-de-passe-a-changer" or "compte-bloque"


@dataclass
class Faults:
    """Probabilities (0 to 1) of each transient fault, per request, and their parameters."""

    error500: float = 0.0
    maintenance: float = 0.0
    rate_limit: float = 0.0
    slow: float = 0.0
    reset: float = 0.0
    truncate: float = 0.0
    expire: float = 0.0
    retry_after: int = 1
    slow_seconds: float = 1.0
    ack_delay: float = (
        0.0  # seconds before an acknowledgement is recorded (lost if the client left)
    )

    def update(self, values: dict[str, Any]) -> None:
        names = {f.name for f in fields(self)}
        for name, value in values.items():
            if name not in names:
                raise ValueError(f"défaut inconnu : {name}")
            setattr(self, name, type(getattr(self, name))(value))


@dataclass
class SandboxState:
    lieu_id: str = "LI-69-0042"
    lieu_name: str = "CCAS de Corbas"
    communes: dict[str, str] = field(default_factory=lambda: {"69273": "Corbas"})
    accounts: dict[str, Account] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    smtp: tuple[str, int] | None = None
    lmtp: bool = False  # deliver straight into a mail store (dovecot's LMTP) instead of SMTP
    seed: int = 0
    now: Callable[[], datetime] = field(default=SystemClock().now)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    pending: dict[str, dict[str, SandboxDemande]] = field(default_factory=dict)
    known: dict[str, SandboxDemande] = field(default_factory=dict)
    acknowledged: Counter[str] = field(default_factory=Counter)
    sessions: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    sign_ins: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    serial: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        for insee in self.communes:
            self.pending.setdefault(insee, {})

    def add_demandes(
        self, count: int, commune: str | None = None, *, age: timedelta = timedelta()
    ) -> list[SandboxDemande]:
        made = []
        with self.lock:
            for _ in range(count):
                insee = commune or self.rng.choice(sorted(self.communes))
                self.serial += 1
                transmitted = (
                    (self.now() - age - timedelta(minutes=self.rng.randint(0, 59)))
                    .astimezone(PARIS)
                    .replace(microsecond=0)
                )
                demande = make_demande(
                    self.rng, self.serial, insee, self.communes[insee], transmitted
                )
                self.pending.setdefault(insee, {})[demande.numero] = demande
                self.known[demande.numero] = demande
                made.append(demande)
        for demande in made:
            self._notify(demande)
        return made

    def etag(self, insee: str) -> str:
        numeros = ",".join(sorted(self.pending.get(insee, {})))
        return '"' + hashlib.sha256(numeros.encode()).hexdigest()[:32] + '"'

    def public_state(self) -> dict[str, Any]:
        """Numeros and counters only: what a test needs, nothing personal."""
        with self.lock:
            return {
                "pending": {insee: sorted(d) for insee, d in self.pending.items()},
                "known": sorted(self.known),
                "acknowledged": dict(self.acknowledged),
                "sign_ins": dict(self.sign_ins),
                "faults_injected": dict(self.injected),
            }

    def _notify(self, demande: SandboxDemande) -> None:
        if self.smtp is None:
            return
        recipients = [a.email for a in self.accounts.values() if demande.commune in a.communes]
        if not recipients:
            return
        message = notification_email(demande, recipients)
        client = smtplib.LMTP if self.lmtp else smtplib.SMTP
        try:
            with client(*self.smtp, timeout=10) as smtp:
                smtp.send_message(message)
        except OSError as exc:
            log.warning("notification of %s not sent: %s", demande.numero, exc)


# Python folds a long Subject right after its name, and a parser then reads it back with a
# leading space; the extranet's mails keep it on one line (RFC 5322 allows 998 characters).
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)


def notification_email(demande: SandboxDemande, recipients: list[str]) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = f"mon-enfant.fr <{NOTIFICATION_SENDER}>"
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(demande.notified_at)
    message["Message-ID"] = make_msgid(domain="monenfant.example")
    place = f"{demande.commune_name} ({demande.commune})"
    message["Subject"] = f"[mon-enfant.fr] Nouvelle demande d'accueil {demande.numero} - {place}"
    available = demande.transmitted_at.astimezone(PARIS)
    message.set_content(
        "Bonjour,\n\nUne nouvelle demande de mode d'accueil est disponible sur l'extranet "
        "partenaires mon-enfant.fr.\n\n"
        f"Numéro de demande : {demande.numero}\nCommune : {place}\n"
        f"Mise à disposition le : {available:%d/%m/%Y} à {available:%H:%M}\n\n"
        "Vous disposez de 15 jours calendaires pour la récupérer.\n"
    )
    return message
