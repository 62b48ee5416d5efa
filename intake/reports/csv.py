"""A month's figures as CSV, one line per commune (for the Caf's spreadsheets)."""

from __future__ import annotations

import csv
import io

from intake.french import month_name
from intake.reports.figures import Figures

CSV_HEADER = [
    "Mois",
    "Commune",
    "Code INSEE",
    "Reçues",
    "Dans le délai",
    "Part dans le délai (%)",
    "Délai médian (jours)",
    "Délai maximal (jours)",
    "En retard",
    "Numéros en retard",
    "Détruites",
    "Disponibilité de l’extranet (%)",
    "Traitées",
    "Familles contactées",
    "Orientées",
    "Sans suite",
]
INSEE = ("Code INSEE", "insee")  # the column's name, and its name in reports kept before


def _decimal(value: float | None) -> str:
    """« 66,7 », « 2,5 », « 5 »: a comma decimal a French spreadsheet reads as a number, never
    three digits after a comma (« 1,000 » reads as a thousand) and no thousands separator."""
    if value is None:
        return ""
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def _percent(value: float | None) -> str:
    return "" if value is None else _decimal(value * 100)


def to_csv(figures: Figures) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    month = month_name(figures.month)
    for c in figures.communes:
        writer.writerow(
            [
                month,
                c.name,
                c.insee,
                c.received,
                c.within,
                _percent(c.share),
                _decimal(c.median_delay),
                "" if c.longest_delay is None else c.longest_delay,
                len(c.overdue),
                " ".join(sorted(c.overdue)),
                c.destroyed,
                _percent(c.availability),
                c.treated,
                c.outcomes.get("contactee", 0),
                c.outcomes.get("orientee", 0),
                c.outcomes.get("sans-suite", 0),
            ]
        )
    return out.getvalue().encode("utf-8-sig")  # the BOM lets a spreadsheet read the accents


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def communes_of(data: bytes) -> set[str]:
    """The INSEE codes a kept report's CSV covers."""
    rows = _rows(data)
    column = next(rows[0].index(name) for name in INSEE if name in rows[0])
    return {row[column] for row in rows[1:] if len(row) > column}


def only_communes(data: bytes, communes: frozenset[str]) -> bytes:
    """A kept report's CSV with only the lines of these communes (and its header)."""
    rows = _rows(data)
    column = next(rows[0].index(name) for name in INSEE if name in rows[0])
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(rows[0])
    writer.writerows(row for row in rows[1:] if len(row) > column and row[column] in communes)
    return out.getvalue().encode("utf-8-sig")
