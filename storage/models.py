"""Tables. Clear columns hold only what is not personal: numero, commune, dates, status.

Everything personal lives in `demande_blob`, encrypted with the demande's own
data key (`demande_key`), itself wrapped by the master key. Destroying a
demande deletes both; the `demande` row stays as its tombstone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from storage.status import Status as Status  # where it always was, for every caller


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (no zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware instants only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _instant(nullable: bool = True, index: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class BlobKind(StrEnum):
    RECORD = "record"  # the decoded demande, JSON
    XML = "xml"  # the demande element as received
    PDF = "pdf"
    QUARANTINE_XML = "quarantine-xml"  # a divergent or refused copy
    QUARANTINE_PDF = "quarantine-pdf"
    FOLLOWUP = "suivi"  # what the lieu did with the demande (art. 3-4), JSON
    FAMILY_EMAILS = "courriels-famille"  # the emails sent to the family: when, which, by whom


class DemandeRow(SQLModel, table=True):
    __tablename__ = "demande"

    numero: str = Field(primary_key=True, max_length=15)
    commune: str = Field(max_length=5, index=True)
    status: str = Field(max_length=12, index=True)
    refusal_code: str | None = Field(default=None, max_length=40)
    transmitted_at: datetime | None = Field(default=None, sa_column=_instant())
    notified_at: datetime | None = Field(default=None, sa_column=_instant())
    mail_notified_at: datetime | None = Field(default=None, sa_column=_instant())
    retrieved_at: datetime | None = Field(default=None, sa_column=_instant())
    retrieval_due: date | None = Field(default=None)
    purge_due: date | None = Field(default=None, index=True)
    fingerprint: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    updated_at: datetime = Field(sa_column=_instant(nullable=False))
    purged_at: datetime | None = Field(default=None, sa_column=_instant())
    purge_reason: str | None = Field(default=None, max_length=40)
    acknowledged_at: datetime | None = Field(default=None, sa_column=_instant())
    announced_at: datetime | None = Field(default=None, sa_column=_instant())
    # The attestation that covers this demande's destruction: exactly one, once purged.
    attestation_id: int | None = Field(default=None, index=True)
    # Handled by the lieu: when and by whom (a habilitated person), and the kind of outcome
    # ("contactee", "orientee", "sans-suite"); the outcome's details are in the vault.
    treated_at: datetime | None = Field(default=None, sa_column=_instant())
    treated_by: str | None = Field(default=None, max_length=254)
    followup: str | None = Field(default=None, max_length=20)


class DemandeKey(SQLModel, table=True):
    __tablename__ = "demande_key"

    numero: str = Field(
        sa_column=Column(String(15), ForeignKey("demande.numero"), primary_key=True)
    )
    wrapped_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    master_key_id: str = Field(max_length=16)
    # The purge day whose key (in the key store, outside the database) wraps this one; None:
    # wrapped by the master key itself (made before the key store, re-wrapped at unlock).
    key_date: date | None = Field(default=None)


class DemandeBlob(SQLModel, table=True):
    __tablename__ = "demande_blob"

    id: int | None = Field(default=None, primary_key=True)
    numero: str = Field(
        sa_column=Column(String(15), ForeignKey("demande_key.numero"), index=True, nullable=False)
    )
    kind: str = Field(max_length=20)
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Refusal(SQLModel, table=True):
    """A refused demande or document. Never personal: numero, commune, code, French message."""

    __tablename__ = "refusal"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_instant(nullable=False, index=True))
    source: str = Field(max_length=255)
    numero: str | None = Field(default=None, max_length=15, index=True)
    commune: str | None = Field(default=None, max_length=5)
    code: str = Field(max_length=40)
    message: str = Field(max_length=4000)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    seq: int = Field(primary_key=True)
    at: datetime = Field(sa_column=_instant(nullable=False))
    actor: str = Field(max_length=254)
    action: str = Field(max_length=40, index=True)
    numero: str | None = Field(default=None, max_length=15, index=True)
    detail: str = Field(default="{}", max_length=4000)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The chain's last link, updated with each append: deleting the newest events shows."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int
    hash: str = Field(max_length=64)


class CommuneState(SQLModel, table=True):
    """What the poller knows of a commune's feed: for `intake status` and the alerts."""

    __tablename__ = "commune_state"

    insee: str = Field(primary_key=True, max_length=5)
    etag: str | None = Field(default=None, max_length=200)
    last_attempt: datetime | None = Field(default=None, sa_column=_instant())
    last_success: datetime | None = Field(default=None, sa_column=_instant())
    last_error: datetime | None = Field(default=None, sa_column=_instant())
    last_error_code: str | None = Field(default=None, max_length=40)
    last_error_message: str | None = Field(default=None, max_length=1000)
    failing_since: datetime | None = Field(default=None, sa_column=_instant())


class AccountState(SQLModel, table=True):
    """An extranet account the worker must stop using (wrong password, blocked, password to
    change). `password_mark` tells whether the configured password has changed since."""

    __tablename__ = "account_state"

    account: str = Field(primary_key=True, max_length=254)
    code: str = Field(max_length=40)
    since: datetime = Field(sa_column=_instant(nullable=False))
    password_mark: str = Field(max_length=64)


class OutboxMessage(SQLModel, table=True):
    """An email, written in the same transaction as the fact it announces, sent later.

    Never personal: numeros, communes, dates and counts. `dedupe_key` makes each alert
    exist once, whatever restarts happen; `message_id` makes a resend recognisable.
    """

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40, index=True)
    message_id: str = Field(max_length=200)
    recipients: str = Field(max_length=4000)
    subject: str = Field(max_length=300)
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_instant(nullable=False, index=True))
    sent_at: datetime | None = Field(default=None, sa_column=_instant(index=True))
    failed_at: datetime | None = Field(default=None, sa_column=_instant())
    last_error: str | None = Field(default=None, max_length=500)
    report_month: str | None = Field(default=None, max_length=7)  # attach that month's report
    attestation_id: int | None = Field(default=None)  # attach that attestation's PDF


class MailboxState(SQLModel, table=True):
    """How far the notification mailbox has been read: UIDs survive restarts; a new
    UIDVALIDITY means the folder was rebuilt, and it is read again from the start."""

    __tablename__ = "mailbox_state"

    mailbox: str = Field(primary_key=True, max_length=300)
    uidvalidity: int
    last_uid: int = 0


class Attestation(SQLModel, table=True):
    """A destruction attestation: what one purge destroyed, and the proof it was signed.

    Never personal: numeros, communes and dates. The manifest is the exact list the PDF
    shows; its SHA-256 and the audit chain's head at drafting time bind the two together.
    `pdf` is empty while the purge it belongs to is still under way.
    """

    __tablename__ = "attestation"

    id: int | None = Field(default=None, primary_key=True)
    reason: str = Field(max_length=40)  # "conservation-6-mois" or "fin-de-convention"
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    drafted_at: datetime | None = Field(default=None, sa_column=_instant())
    demandes: int = 0
    first_purge_due: date | None = None
    last_purge_due: date | None = None
    sign_by: date | None = None
    manifest: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    manifest_sha256: str | None = Field(default=None, max_length=64)
    audit_seq: int | None = None
    audit_hash: str | None = Field(default=None, max_length=64)
    pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    signed_pdf: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    signed_by: str | None = Field(default=None, max_length=254)
    signed_at: datetime | None = Field(default=None, sa_column=_instant())
    signature_kind: str | None = Field(default=None, max_length=20)  # "pades" or "manuscrite"


class ConventionState(SQLModel, table=True):
    """Set once, when the convention ends: from then on nothing is taken in."""

    __tablename__ = "convention_state"

    id: int = Field(default=1, primary_key=True)
    ended_at: datetime = Field(sa_column=_instant(nullable=False))
    ended_by: str = Field(max_length=254)
    attestation_id: int | None = None


class CommuneDay(SQLModel, table=True):
    """Polls of a commune's feed per UTC day, for the monthly report's availability."""

    __tablename__ = "commune_day"

    insee: str = Field(primary_key=True, max_length=5)
    day: date = Field(primary_key=True)
    attempts: int = 0
    successes: int = 0


class MonthlyReport(SQLModel, table=True):
    """The report of a month, made once (whichever worker gets there first) and kept."""

    __tablename__ = "monthly_report"

    month: str = Field(primary_key=True, max_length=7)  # YYYY-MM
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    csv: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Heartbeat(SQLModel, table=True):
    """Each running worker's last sign of life, read by `intake status`."""

    __tablename__ = "heartbeat"

    worker: str = Field(primary_key=True, max_length=200)  # host:pid
    started_at: datetime = Field(sa_column=_instant(nullable=False))
    beat_at: datetime = Field(sa_column=_instant(nullable=False, index=True))
    interval_seconds: int


class AuditCheckpoint(SQLModel, table=True):
    """Where the trail now begins, once events older than a year are pruned: the last pruned
    link, sealed with a key derived from the master key so that it cannot be moved unseen."""

    __tablename__ = "audit_checkpoint"

    id: int = Field(default=1, primary_key=True)
    seq: int
    hash: str = Field(max_length=64)
    pruned_at: datetime = Field(sa_column=_instant(nullable=False))
    pruned_events: int = 0  # in all, since the first pruning
    seal: str = Field(max_length=64)


class VaultMeta(SQLModel, table=True):
    """Which master key this database belongs to, and the keys derived from it, wrapped.

    `key_id` is checked by every command that opens the vault, before anything is fetched,
    stored or acknowledged: a wrong key file must never write demandes that nobody can read.
    The derived keys (content fingerprints, audit chain) are kept wrapped so that a rotated
    master key leaves the fingerprints and the chain as they were.
    """

    __tablename__ = "vault_meta"

    id: int = Field(default=1, primary_key=True)
    key_id: str = Field(max_length=16)
    fingerprint_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    audit_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    rotated_at: datetime | None = Field(default=None, sa_column=_instant())


class StaffAccount(SQLModel, table=True):
    """The console's sign-in for a person of [[staff]]: only an argon2 hash of the password,
    and the TOTP secret wrapped by the master key."""

    __tablename__ = "staff_account"

    email: str = Field(primary_key=True, max_length=254)  # casefolded
    password_hash: str = Field(max_length=200)
    password_set_at: datetime = Field(sa_column=_instant(nullable=False))
    totp_secret: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    last_sign_in_at: datetime | None = Field(default=None, sa_column=_instant())
    # The TOTP time step of the last code accepted: a code at or before it is a replay.
    totp_last_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class SignInThrottle(SQLModel, table=True):
    """How much sign-ins are slowed for one key: an account, or a source address. Only the
    SHA-256 of the key is kept (no address typed by a stranger, no IP address in clear).
    Failures grow the delay; they are forgotten after a quiet while or a sign-in."""

    __tablename__ = "sign_in_throttle"

    key: str = Field(primary_key=True, max_length=64)
    failures: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    first_failure_at: datetime | None = Field(default=None, sa_column=_instant())  # the episode
    last_failure_at: datetime | None = Field(default=None, sa_column=_instant(index=True))
    blocked_until: datetime | None = Field(default=None, sa_column=_instant())


class PasswordLink(SQLModel, table=True):
    """A one-time link to set one's console password, sent by an administrator. Only the
    SHA-256 of its token is kept; it is deleted when used, and worthless once expired."""

    __tablename__ = "password_link"

    token_hash: str = Field(primary_key=True, max_length=64)
    email: str = Field(max_length=254, index=True)  # casefolded
    created_by: str = Field(max_length=254)
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    expires_at: datetime = Field(sa_column=_instant(nullable=False))


class WebSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of the cookie's token is kept."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    email: str = Field(max_length=254, index=True)
    csrf: str = Field(max_length=64)
    stage: str = Field(max_length=10)  # "code" while the TOTP code is awaited, then "ok"
    code_tries: int = Field(  # wrong TOTP codes sent while waiting
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    created_at: datetime = Field(sa_column=_instant(nullable=False))
    last_seen_at: datetime = Field(sa_column=_instant(nullable=False))
