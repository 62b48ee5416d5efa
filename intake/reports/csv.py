"""A month's figures as CSV, one line per commune (for the Caf's spreadsheets)."""

from __future__ import annotations

import csv
import io

from intake.reports.figures import Figures

CSV_HEADER = [
    "mois",
    "commune",
    "insee",
    "recues",
    "dans_le_delai",
    "part_dans_le_delai",
    "delai_median_jours",
    "delai_max_jours",
    "en_retard",
    "numeros_en_retard",
    "detruites",
    "disponibilite_extranet",
    "traitees",
    "familles_contactees",
    "orientees",
    "sans_suite",
]


def _ratio(value: float | None) -> str:
    # A French spreadsheet reads « 0,875 » as a number, « 0.875 » as text.
    return "" if value is None else f"{value:.3f}".replace(".", ",")


def to_csv(figures: Figures) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    month = figures.month.strftime("%Y-%m")
    for c in figures.communes:
        writer.writerow(
            [
                month,
                c.name,
                c.insee,
                c.received,
                c.within,
                _ratio(c.share),
                "" if c.median_delay is None else f"{c.median_delay:g}".replace(".", ","),
                "" if c.longest_delay is None else c.longest_delay,
                len(c.overdue),
                " ".join(sorted(c.overdue)),
                c.destroyed,
                _ratio(c.availability),
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
    column = rows[0].index("insee")
    return {row[column] for row in rows[1:] if len(row) > column}


def only_communes(data: bytes, communes: frozenset[str]) -> bytes:
    """A kept report's CSV with only the lines of these communes (and its header)."""
    rows = _rows(data)
    column = rows[0].index("insee")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(rows[0])
    writer.writerows(row for row in rows[1:] if len(row) > column and row[column] in communes)
    return out.getvalue().encode("utf-8-sig")
