"""The configuration's sections as pydantic models: what each key may hold."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

CONFIG_ENV = "INTAKE_CONFIG"
DEFAULT_CONFIG_NAME = "intake.toml"

# Metropolitan departments 01-95 (Corsica as 2A/2B, never 20), overseas 971-976.
INSEE_CODE = re.compile(r"(?:0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5])[0-9]{3}|97[1-6][0-9]{2}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Duty = Literal["recipient", "signatory", "admin"]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LieuSection(_Section):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{1,32}$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    timezone: str = "Europe/Paris"
    # Given to families in the emails the agents send them (intake/family/).
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] = ""
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""


class ConventionSection(_Section):
    signed_on: date
    retrieval_days: int = Field(default=15, ge=1, le=365)
    # Renewed tacitly each year on its anniversary; ended with this much notice.
    renewal_notice_months: int = Field(default=3, ge=0, le=12)


class CommuneSection(_Section):
    insee: str
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class StaffSection(_Section):
    name: NonEmpty
    function: str = ""
    email: str
    duties: list[Duty] = Field(min_length=1)
    communes: list[str] | None = None
    since: date | None = None  # habilitated from (the Caf is told within 15 days)
    until: date | None = None  # habilitation ended (the Caf is told within 15 days)


class DatabaseSection(_Section):
    url: str = "sqlite:///data/intake.db"


class VaultSection(_Section):
    key_file: str = "secrets/master.key"
    keys_dir: str | None = None  # the key store (purge-day keys); default: cles/ beside key_file


class ExtranetAccountSection(_Section):
    """One habilitated person's extranet account and the communes it retrieves."""

    account: str
    password_env: str | None = None
    password_file: str | None = None
    communes: list[str] | None = None  # default: the person's communes in [[staff]]


class ExtranetSection(_Section):
    url: str
    # One account (account + password_*), or several ([[extranet.accounts]]) when no single
    # habilitated person's account covers every commune of annexe 1.
    account: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    accounts: list[ExtranetAccountSection] = []
    ca_bundle: str | None = None
    poll_minutes: int = Field(default=30, ge=1, le=1440)

    def all_accounts(self) -> list[ExtranetAccountSection]:
        if self.accounts:
            return list(self.accounts)
        if self.account is None:
            return []
        return [
            ExtranetAccountSection(
                account=self.account,
                password_env=self.password_env,
                password_file=self.password_file,
            )
        ]


class SmtpSection(_Section):
    host: NonEmpty
    port: int = Field(default=25, ge=1, le=65535)
    sender: str
    starttls: bool = False
    ca_bundle: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    password_file: str | None = None


class MailboxSection(_Section):
    host: NonEmpty
    port: int = Field(default=993, ge=1, le=65535)
    ssl: bool = True
    starttls: bool = False
    username_env: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    folder: NonEmpty = "INBOX"
    sender: str
    ca_bundle: str | None = None


class AlertsSection(_Section):
    before_deadline: list[Annotated[int, Field(ge=0, le=60)]] = [5, 1]  # days before
    unreachable_hours: float = Field(default=4.0, gt=0, le=168)  # silence before an outage alert


class DropboxSection(_Section):
    path: NonEmpty


class RetentionSection(_Section):
    # "monthly": on the 1st, everything whose purge day falls in the month goes, so the
    # month's attestation has the whole month to be signed; "daily": each on its own day.
    policy: Literal["monthly", "daily"] = "monthly"


class CafSection(_Section):
    email: str  # the Caf's partner contact: signed attestations are sent to it


class WebSection(_Section):
    # Where `intake web` listens; behind a reverse proxy (HTTPS), keep it on loopback.
    listen: Annotated[str, StringConstraints(pattern=r"^(\[[0-9a-fA-F:]+\]|[^\s:]+):\d{1,5}$")] = (
        "127.0.0.1:8080"
    )
    base_url: str | None = None  # the console's address as staff reach it (links in emails)
    insecure_http: bool = False  # cookies without Secure: for trials on 127.0.0.1 only


class FamilyEmailsSection(_Section):
    # The lieu's own templates (one .txt per template, signature.txt), beside the
    # configuration; a file named like a shipped template replaces it.
    templates: str | None = None
    reply_to: Annotated[str, StringConstraints(pattern=EMAIL.pattern)] | None = None


_SECTION_KEYS: dict[type, str] = {}  # filled below: the TOML name of each secret's section


class RawConfig(_Section):
    # The template's mark: its lieu, communes and staff are an example's until someone
    # replaces them and deletes the line (`Config.example_problems`).
    exemple: bool = False
    lieu: LieuSection
    convention: ConventionSection
    communes: list[CommuneSection] = Field(min_length=1)
    staff: list[StaffSection] = Field(min_length=1)
    database: DatabaseSection = DatabaseSection()
    vault: VaultSection = VaultSection()
    extranet: ExtranetSection | None = None
    smtp: SmtpSection | None = None
    mailbox: MailboxSection | None = None
    dropbox: DropboxSection | None = None
    alerts: AlertsSection = AlertsSection()
    retention: RetentionSection = RetentionSection()
    web: WebSection = WebSection()
    family_emails: FamilyEmailsSection = FamilyEmailsSection()
    caf: CafSection | None = None


_SECTION_KEYS.update(
    {
        ExtranetSection: "extranet",
        ExtranetAccountSection: "extranet.accounts",
        SmtpSection: "smtp",
        MailboxSection: "mailbox",
    }
)
