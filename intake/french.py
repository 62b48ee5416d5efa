"""French dates for people: days (jj/mm/aaaa in tables, « 3 décembre 2026 » in sentences),
instants in the lieu's time zone, plurals. The words of codes are in `intake.vocabulary`."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from intake import vocabulary


def status(value: str) -> str:
    return vocabulary.status(value)


def day(value: date | None) -> str:
    return "—" if value is None else value.strftime("%d/%m/%Y")


def parse_day(text: str | None) -> date | None:
    """A day typed in a form: aaaa-mm-jj (what a browser's date picker sends) or jj/mm/aaaa
    (what a person types where the browser has none, as the field's hint asks); None when
    empty or not a day."""
    if not text:
        return None
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.strip().split("/"))
            return date(year, month, day) if year >= 1000 else None
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def long_day(value: date | None) -> str:
    """« 3 décembre 2026 », « 1er mars 2027 »: a day in a sentence."""
    if value is None:
        return "—"
    first = "1er" if value.day == 1 else str(value.day)
    return f"{first} {MONTHS[value.month - 1]} {value.year}"


def instant(value: datetime | None, tz: ZoneInfo) -> str:
    return "jamais" if value is None else value.astimezone(tz).strftime("%d/%m/%Y à %H:%M")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """« 1 demande », « 3 demandes »: the count and the word agreeing with it."""
    return f"{count} {singular if count <= 1 else (plural_form or singular + 's')}"


def of_month(label: str) -> str:
    """« de mai 2027 », « d'avril 2027 », « d'août 2027 », « d'octobre 2027 »: the elision."""
    return f"d'{label}" if label[:1] in "aeiouyâéèêîôûAEIOU" else f"de {label}"


MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
]  # fmt: skip


def month_name(month: date) -> str:
    """« novembre 2026 »."""
    return f"{MONTHS[month.month - 1]} {month.year}"
