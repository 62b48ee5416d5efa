"""The notification mailbox (IMAP): the emails of `extranet-v1.md` start the retrieval clock,
even while the extranet cannot be reached.

Only emails from the configured sender are read; they are fetched with
BODY.PEEK (never marked \\Seen) and never deleted. An email from that sender
that does not parse is reported, never guessed at.
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from zoneinfo import ZoneInfo

SUBJECT = re.compile(
    r"\[mon-enfant\.fr\] Nouvelle demande d'accueil (?P<numero>ME-[0-9]{4}-[0-9]{7}) - "
    r"(?P<name>.+) \((?P<insee>(?:[0-9]{2}|2A|2B)[0-9]{3})\)"
)
NUMERO_LINE = re.compile(r"^Numéro de demande : (ME-[0-9]{4}-[0-9]{7})\s*$", re.M)
COMMUNE_LINE = re.compile(r"^Commune : (.+) \(((?:[0-9]{2}|2A|2B)[0-9]{3})\)\s*$", re.M)
AVAILABLE_LINE = re.compile(
    r"^Mise à disposition le : ([0-9]{2})/([0-9]{2})/([0-9]{4}) à ([0-9]{2}):([0-9]{2})\s*$", re.M
)


class NotificationUnreadable(ValueError):
    """The email came from the extranet's sender but is not the notification of the spec."""


@dataclass(frozen=True)
class Notification:
    numero: str
    commune: str
    commune_name: str
    sent_at: datetime  # the email's Date: the start of the retrieval clock
    available_at: datetime  # "Mise à disposition le": the transmission
    message_id: str | None


def sender_of(message: EmailMessage) -> str | None:
    header = message["From"]
    addresses: tuple[Address, ...] = getattr(header, "addresses", ()) if header else ()
    return addresses[0].addr_spec.casefold() if addresses else None


def parse(raw: bytes, tz: ZoneInfo) -> Notification:
    """Read one notification email; NotificationUnreadable names what is missing."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    subject = " ".join(str(message["Subject"] or "").split())
    matched = SUBJECT.fullmatch(subject)
    if matched is None:
        raise NotificationUnreadable("objet inattendu")
    date_header = message["Date"]
    sent_at = getattr(date_header, "datetime", None)
    if sent_at is None or sent_at.tzinfo is None:
        raise NotificationUnreadable("en-tête Date absent ou sans fuseau")
    part = message.get_body(("plain",))
    if part is None:
        raise NotificationUnreadable("pas de partie texte")
    body = part.get_content()
    numero, commune, available = (
        NUMERO_LINE.search(body),
        COMMUNE_LINE.search(body),
        AVAILABLE_LINE.search(body),
    )
    if numero is None or commune is None or available is None:
        raise NotificationUnreadable("ligne Numéro, Commune ou Mise à disposition absente")
    if numero.group(1) != matched["numero"] or commune.group(2) != matched["insee"]:
        raise NotificationUnreadable("l'objet et le texte ne désignent pas la même demande")
    day, month, year, hour, minute = (int(g) for g in available.groups())
    try:
        available_at = datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError:
        raise NotificationUnreadable("date de mise à disposition impossible") from None
    return Notification(
        matched["numero"],
        matched["insee"],
        commune.group(1),
        sent_at,
        available_at,
        message["Message-ID"],
    )


_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(<[!-;=?-~]{1,250}>)", re.I | re.M)


def message_id(raw: bytes) -> str | None:
    """The Message-ID of an email that may not parse at all: a handle to find it, no content."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = _MESSAGE_ID.search(head)
    return found.group(1).decode("ascii") if found else None


@dataclass
class MailboxSettings:
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    sender: str = "ne-pas-repondre@monenfant.example"
    use_ssl: bool = True
    starttls: bool = False
    ca_bundle: str | None = None  # a private CA's certificates
    timeout: float = 30.0

    @property
    def key(self) -> str:
        return f"{self.username}@{self.host}:{self.port}/{self.folder}"


@dataclass(frozen=True)
class Fetched:
    uidvalidity: int
    messages: list[tuple[int, bytes]]


class MailboxError(Exception):
    pass


def _open(settings: MailboxSettings) -> imaplib.IMAP4:
    context = ssl.create_default_context(cafile=settings.ca_bundle)
    if settings.use_ssl:
        client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            settings.host, settings.port, ssl_context=context, timeout=settings.timeout
        )
    else:
        client = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
        if settings.starttls:
            client.starttls(ssl_context=context)
    client.login(settings.username, settings.password)
    return client


def fetch_new(settings: MailboxSettings, uidvalidity: int | None, last_uid: int) -> Fetched:
    """The extranet's emails after `last_uid` (all of them if the folder's UIDVALIDITY
    changed), read-only: nothing is flagged, moved or deleted."""
    try:
        client = _open(settings)
    except ssl.SSLCertVerificationError:
        raise MailboxError(
            "certificat du serveur IMAP non reconnu (voir mailbox.ca_bundle)"
        ) from None
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"boîte aux lettres injoignable ({type(exc).__name__})") from None
    try:
        status, _ = client.select(_quoted(settings.folder), readonly=True)
        if status != "OK":
            raise MailboxError(f"dossier {settings.folder} introuvable")
        validity = int((client.response("UIDVALIDITY")[1] or [b"0"])[0] or 0)
        start = last_uid + 1 if validity == uidvalidity else 1
        return Fetched(validity, list(_messages(client, settings.sender, start)))
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"lecture de la boîte impossible ({type(exc).__name__})") from None
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _messages(client: imaplib.IMAP4, sender: str, start: int) -> Iterator[tuple[int, bytes]]:
    status, data = client.uid("SEARCH", f"UID {start}:*", "FROM", _quoted(sender))
    if status != "OK":
        raise MailboxError("recherche IMAP refusée")
    # "n:*" always matches the newest message, even below n: filter again.
    uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) >= start)
    for uid in uids:
        status, parts = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        raw = next((p[1] for p in parts if isinstance(p, tuple)), None) if status == "OK" else None
        if raw is not None:
            yield uid, raw


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
