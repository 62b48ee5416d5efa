"""The rules beyond the XSD (flux-demandes-v1.md), one function per code.

Each takes the decoded demande and what it needs to know of the world (the
convention's communes, the lieu's time zone, `now`); none reads the time.
Messages are French and carry no personal data: positions ("enfant n° 2"),
never names, and bounds derived from the deposit date, never a birth date.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from intake.convention.deadlines import local_date, past_retention, purge_due
from intake.feed.errors import Code, Violation
from intake.feed.model import Demande, Enfant, EnfantANaitre

FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_CHILD_AGE = relativedelta(years=6)
UNBORN_EARLIEST = timedelta(days=31)
UNBORN_LATEST = timedelta(days=305)


@dataclass(frozen=True)
class RuleContext:
    communes: frozenset[str]
    timezone: ZoneInfo
    now: datetime


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def commune(d: Demande, ctx: RuleContext) -> list[Violation]:
    if d.commune_insee in ctx.communes:
        return []
    return [
        Violation(
            Code.COMMUNE_NON_HABILITEE,
            f"la commune {d.commune_insee} n'est pas dans l'annexe 1 de la convention",
        )
    ]


def dates(d: Demande, ctx: RuleContext) -> list[Violation]:
    found: list[Violation] = []
    if d.date_depot > d.date_transmission:
        found.append(
            Violation(Code.DATES_INCOHERENTES, "dateDepot est postérieure à dateTransmission")
        )
    if d.date_notification is not None and d.date_transmission > d.date_notification:
        found.append(
            Violation(
                Code.DATES_INCOHERENTES, "dateTransmission est postérieure à dateNotification"
            )
        )
    limit = ctx.now + FUTURE_TOLERANCE
    for name, value in (
        ("dateDepot", d.date_depot),
        ("dateTransmission", d.date_transmission),
        ("dateNotification", d.date_notification),
    ):
        if value is not None and value > limit:
            found.append(
                Violation(Code.DATES_INCOHERENTES, f"{name} est dans le futur (plus de 5 minutes)")
            )
    return found


def _deposit_day(d: Demande, ctx: RuleContext) -> date:
    return local_date(d.date_depot, ctx.timezone)


def children(d: Demande, ctx: RuleContext) -> list[Violation]:
    deposit = _deposit_day(d, ctx)
    oldest = deposit - MAX_CHILD_AGE
    found: list[Violation] = []
    for position, child in enumerate(d.enfants, start=1):
        if isinstance(child, Enfant) and not oldest <= child.date_naissance <= deposit:
            found.append(
                Violation(
                    Code.ENFANT_TROP_AGE,
                    f"enfant n° {position} : la naissance doit être entre le {_fr(oldest)} "
                    f"et le {_fr(deposit)} (moins de 6 ans au dépôt)",
                )
            )
        if isinstance(child, EnfantANaitre):
            earliest, latest = deposit - UNBORN_EARLIEST, deposit + UNBORN_LATEST
            if not earliest <= child.date_naissance_prevue <= latest:
                found.append(
                    Violation(
                        Code.NAISSANCE_PREVUE_INCOHERENTE,
                        f"enfant à naître n° {position} : la naissance prévue doit être entre le "
                        f"{_fr(earliest)} et le {_fr(latest)}",
                    )
                )
    return found


def modes(d: Demande, ctx: RuleContext) -> list[Violation]:
    found: list[Violation] = []
    counts = Counter(m.mode for m in d.accueil.modes)
    for mode, count in counts.items():
        if count > 1:
            found.append(
                Violation(Code.MODES_INCOHERENTS, f"le mode « {mode} » est demandé {count} fois")
            )
    ranks = sorted(m.rang for m in d.accueil.modes)
    if ranks != list(range(1, len(ranks) + 1)):
        found.append(
            Violation(
                Code.MODES_INCOHERENTS,
                f"les rangs des modes doivent être 1 à {len(ranks)}, sans trou ni doublon",
            )
        )
    return found


def slots(d: Demande, ctx: RuleContext) -> list[Violation]:
    found: list[Violation] = []
    for slot in d.accueil.planning:
        if slot.debut >= slot.fin:  # "hh:mm" strings compare in time order
            found.append(
                Violation(
                    Code.CRENEAU_INVALIDE,
                    f"créneau du {slot.jour} : le début n'est pas avant la fin",
                )
            )
    days = Counter(slot.jour for slot in d.accueil.planning)
    for day, count in days.items():
        if count > 1:
            found.append(Violation(Code.CRENEAU_INVALIDE, f"le {day} a {count} créneaux"))
    return found


def contact(d: Demande, ctx: RuleContext) -> list[Violation]:
    ranks = Counter(r.rang for r in d.responsables)
    found = [
        Violation(Code.CONTACT_MANQUANT, f"deux responsables ont le rang {rank}")
        for rank, count in ranks.items()
        if count > 1
    ]
    first = next((r for r in d.responsables if r.rang == 1), None)
    if first is None:
        found.append(Violation(Code.CONTACT_MANQUANT, "aucun responsable de rang 1"))
    elif not (first.telephone or first.courriel):
        found.append(
            Violation(
                Code.CONTACT_MANQUANT, "le responsable de rang 1 n'a ni téléphone ni courriel"
            )
        )
    return found


NAME_PUNCTUATION = frozenset(" '’-")


def _is_name(value: str) -> bool:
    # str.isalpha() is exactly the categories L*: the common name is decided in C; only a
    # name with combining marks (M*) is read character by character.
    letters = value.replace(" ", "").replace("'", "").replace("’", "").replace("-", "")
    if letters.isalpha() or not letters:
        return True
    return all(c in NAME_PUNCTUATION or unicodedata.category(c)[0] in "LM" for c in value)


def names(d: Demande, ctx: RuleContext) -> list[Violation]:
    """The spec's "any Unicode letters with spaces, apostrophes and hyphens", exactly
    (the XSD's pattern is looser: see the comment on PersonName)."""
    fields: list[tuple[str, str | None]] = []
    for r in d.responsables:
        fields += [
            (f"/demande/famille/responsable[{r.rang}]/nom", r.nom),
            (f"/demande/famille/responsable[{r.rang}]/prenom", r.prenom),
        ]
    for i, child in enumerate(d.enfants, start=1):
        fields += [(f"/demande/enfants/*[{i}]/prenom", child.prenom)]
        if isinstance(child, Enfant):
            fields.append((f"/demande/enfants/*[{i}]/nom", child.nom))
    return [
        Violation(
            Code.SCHEMA_INVALIDE,
            f"{path} : format invalide (lettres, espaces, apostrophes et tirets seulement)",
        )
        for path, value in fields
        if value is not None and not _is_name(value)
    ]


def retention(d: Demande, ctx: RuleContext) -> list[Violation]:
    if not past_retention(d.date_transmission, ctx.now, ctx.timezone):
        return []
    due = purge_due(d.date_transmission, ctx.timezone)
    return [
        Violation(
            Code.DEJA_EXPIREE,
            f"transmise le {_fr(local_date(d.date_transmission, ctx.timezone))} : "
            f"sa durée de conservation de 6 mois prend fin le {_fr(due)}",
        )
    ]


RULES: tuple[Callable[[Demande, RuleContext], list[Violation]], ...] = (
    names,
    commune,
    dates,
    children,
    modes,
    slots,
    contact,
    retention,
)


def check(d: Demande, ctx: RuleContext) -> list[Violation]:
    """Every content rule (the PDF and the duplicate are checked where their data lives)."""
    return [violation for rule in RULES for violation in rule(d, ctx)]
