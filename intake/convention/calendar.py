"""The convention's calendar: what is due, and by when (`intake calendar`).

- A person who joins or leaves the habilitated staff: the Caf is told within 15 days.
- An extranet account unused for 45 days is locked: the last successful retrieval of its
  communes says when that would happen.
- An extranet account is no longer used once its person's habilitation ends: the communes
  it alone retrieved are uncovered from the next day (the admins are alerted that day).
- The convention renews tacitly each year on its anniversary; notice to end it must be given
  `renewal_notice_months` before.
- A copy of the key store (`intake backup --cles`) must be destroyed within a month: kept
  longer, it would reopen demandes an attestation says are destroyed.
The daemon emails the admins 7 days and 1 day before each date (10 days before an account's
lock too), once each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine

from intake.config import Config
from intake.convention import annexe1, coverage, deadlines
from intake.convention.notices import Notices
from storage import attestations as attestation_store
from storage import audit
from storage import backup as backup_store
from storage import communes as communes_store
from storage.db import transaction
from storage.vault import Vault

TELL_THE_CAF = timedelta(days=15)
ACCOUNT_LOCK = timedelta(days=45)
REMINDERS = (7, 1)  # days before a date
ACCOUNT_REMINDERS = (10, 7, 1)
KEY_COPIES_SHOWN = timedelta(days=45)  # a copy is kept a month at most


@dataclass(frozen=True)
class Due:
    key: str  # stable: reminders are sent once per key and point
    day: date
    what: str  # French, nothing personal about families (staff names are the lieu's own)
    reminders: tuple[int, ...] = REMINDERS

    def state(self, today: date) -> str:
        if self.day < today:
            return "dépassée"
        return "aujourd'hui" if self.day == today else f"dans {(self.day - today).days} j"


def calendar(engine: Engine, config: Config, today: date) -> list[Due]:
    ended = _end(engine, config)
    if ended:  # the convention has ended: only its final attestation is still due
        return ended
    items = _staff_changes(config) + _accounts(engine, config, today) + _renewal(config, today)
    items += _uncovered(config)
    items += _key_copies(engine, config, today)
    return sorted(items, key=lambda d: (d.day, d.key))


def _staff_changes(config: Config) -> list[Due]:
    items = []
    for member in config.raw.staff:
        if member.since is not None:
            items.append(
                Due(
                    f"arrivee:{member.email}:{member.since}",
                    member.since + TELL_THE_CAF,
                    f"prévenir la Caf de l'habilitation de {member.name} (depuis le "
                    f"{member.since:%d/%m/%Y}) : intake convention annexe1",
                )
            )
        if member.until is not None:
            items.append(
                Due(
                    f"depart:{member.email}:{member.until}",
                    member.until + TELL_THE_CAF,
                    f"prévenir la Caf du départ de {member.name} (le {member.until:%d/%m/%Y}) "
                    "et le retirer de [[staff]] : intake convention annexe1",
                )
            )
    return items


def _uncovered(config: Config) -> list[Due]:
    """The communes an ended habilitation leaves uncovered (or is about to), from the day
    its account stops being used; gone once another account covers them."""
    return [
        Due(_ending_key(ending), ending.day, _ending_text(ending))
        for ending in coverage.endings(config)
        if ending.communes
    ]


def _ending_key(ending: coverage.Ending) -> str:
    return f"habilitation-fin:{ending.member.email}:{ending.day}"


def _ending_text(ending: coverage.Ending) -> str:
    return (
        f"fin de l'habilitation de {ending.member.name} (le "
        f"{ending.day - timedelta(days=1):%d/%m/%Y}) : son compte extranet ne sert plus à "
        f"partir du {ending.day:%d/%m/%Y} et {', '.join(ending.communes)} ne sont plus "
        "récupérées ; ajoutez le compte d'une personne habilitée ([[extranet.accounts]])"
    )


def _accounts(engine: Engine, config: Config, today: date) -> list[Due]:
    with transaction(engine) as session:
        states = {s.insee: s for s in communes_store.all_states(session)}
    items = []
    for account in coverage.accounts(config, today):
        used = [states[c].last_success for c in account.communes if c in states]
        last = max((u for u in used if u is not None), default=None)
        if last is None:
            continue
        lock = (last + ACCOUNT_LOCK).astimezone(config.timezone).date()
        used_on = f"{last.astimezone(config.timezone):%d/%m/%Y}"
        items.append(
            Due(
                f"compte:{account.member.email}:{lock}",
                lock,
                f"le compte extranet de {account.member.name} sera verrouillé s'il ne sert "
                f"pas d'ici là (dernière récupération le {used_on})",
                ACCOUNT_REMINDERS,
            )
        )
    return items


def _end(engine: Engine, config: Config) -> list[Due]:
    with transaction(engine) as session:
        ended = attestation_store.convention_end(session)
        final_id = ended.attestation_id if ended else None
        final = attestation_store.get(session, final_id) if final_id is not None else None
    if ended is None:
        return []
    day = deadlines.local_date(ended.ended_at, config.timezone)
    if final is None or final.sign_by is None or final.signed_at is not None:
        return [Due(f"fin:{day}", day, "fin de la convention : tout a été détruit et attesté")]
    return [
        Due(
            f"fin:{day}",
            final.sign_by,
            f"fin de la convention le {day:%d/%m/%Y} : l'attestation finale n° {final.id} "
            "est à signer et à envoyer à la Caf",
        )
    ]


def _key_copies(engine: Engine, config: Config, today: date) -> list[Due]:
    since = datetime.combine(today - KEY_COPIES_SHOWN, datetime.min.time(), config.timezone)
    with transaction(engine) as session:
        made = backup_store.key_copies(session, since)
    items = []
    for at, until in made:
        day = date.fromisoformat(until)
        if day < today - timedelta(days=7):
            continue
        items.append(
            Due(
                f"copie-cles:{at.isoformat()}",
                day,
                f"copie chiffrée du magasin de clés faite le "
                f"{deadlines.local_date(at, config.timezone):%d/%m/%Y} : à détruire au plus "
                "tard ce jour (gardée plus longtemps, elle rouvrirait des demandes détruites)",
            )
        )
    return items


def _renewal(config: Config, today: date) -> list[Due]:
    convention = config.raw.convention
    signed = convention.signed_on
    years = max(1, today.year - signed.year)
    renewal = signed + relativedelta(years=years)
    if renewal <= today:
        renewal = signed + relativedelta(years=years + 1)
    notice = renewal - relativedelta(months=convention.renewal_notice_months)
    return [
        Due(
            f"renouvellement:{renewal}",
            renewal,
            f"reconduction tacite de la convention pour un an (sauf dénonciation au plus tard "
            f"le {notice:%d/%m/%Y})",
        ),
        Due(
            f"denonciation:{notice}",
            notice,
            "dernier jour pour dénoncer la convention avant sa reconduction ; à sa fin, tout "
            "doit être détruit et attesté (intake convention end)",
        ),
    ]


def reminders_due(items: list[Due], today: date) -> list[tuple[Due, int]]:
    """The (item, days before) reminders that fall today or were missed, the nearest point."""
    found = []
    for item in items:
        left = (item.day - today).days
        passed = [n for n in item.reminders if left <= n]
        if passed and left >= 0:
            found.append((item, min(passed)))
    return found


ACTOR = "système:calendrier"


def remind(engine: Engine, vault: Vault, config: Config, notices: Notices, now: datetime) -> int:
    """The day's reminders, and the annexe 1 when the staff list changed; each email once.
    The list first seen is only recorded (in the audit trail, as a digest): there is no
    change to tell at installation."""
    today = deadlines.local_date(now, config.timezone)
    queued = 0
    text = annexe1.text(config, today)
    version = annexe1.version(text)
    with transaction(engine) as session:
        for item, before in reminders_due(calendar(engine, config, today), today):
            queued += notices.calendar_reminder(
                session, now, item.key, f"{item.day:%d/%m/%Y}", item.what, before
            )
        for ending in coverage.endings(config):
            if ending.communes and ending.day <= today:
                queued += notices.technical(
                    session,
                    now,
                    _ending_key(ending),
                    "Communes qui ne sont plus récupérées",
                    _ending_text(ending),
                    "configurer dans [[extranet.accounts]] le compte extranet d'une personne "
                    "habilitée pour ces communes, puis « intake check-config »",
                )
        known = audit.last_detail(session, action="annexe1")
        if known is None or known.get("version") != version:
            vault.trail.record(
                session, at=now, actor=ACTOR, action="annexe1", detail={"version": version}
            )
            if known is not None:
                queued += notices.annexe1(session, now, text, version)
    return queued
