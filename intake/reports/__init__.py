"""The monthly report: what the lieu did with the month's demandes, for its director and the Caf.

Per commune: demandes retrieved, retrieved within the deadline (count and share), median and
longest delay, overdue ones by numero, destroyed ones, the extranet's availability; the
attestations' state; a chart of receptions and delays per day. A PDF (fpdf2, the chart drawn
with its primitives) and a CSV. Nothing personal: numeros, communes, dates and counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from intake.french import month_name
from intake.reports.figures import MONTH, Figures, parse_month, previous_month

if TYPE_CHECKING:
    from intake.reports.monthly import Reports

__all__ = ["MONTH", "Figures", "Reports", "month_name", "parse_month", "previous_month"]


def __getattr__(name: str) -> Any:
    # `intake status` reads the months (figures) without the emails the reports send (jinja2).
    if name == "Reports":
        from intake.reports.monthly import Reports

        return Reports
    raise AttributeError(name)
