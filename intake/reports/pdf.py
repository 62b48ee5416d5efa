"""The monthly report as a PDF: tables and a chart drawn with fpdf2's own primitives."""

from __future__ import annotations

import itertools
import statistics
from datetime import timedelta

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from intake.config import Config
from intake.french import month_name, plural
from intake.pdf_fonts import FONT, use_unicode_font
from intake.reports.figures import Figures


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def render(figures: Figures, config: Config) -> bytes:
    pdf = FPDF(format="A4", orientation="landscape", unit="mm")
    use_unicode_font(pdf)
    pdf.set_title(f"Rapport mensuel — {month_name(figures.month)}")
    pdf.set_creator("monenfant-intake")
    pdf.set_creation_date(figures.made_at)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font(FONT, style="B", size=15)
    pdf.cell(
        0,
        8,
        f"Rapport mensuel - {month_name(figures.month)}",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_font(FONT, size=10)
    made = figures.made_at.astimezone(config.timezone)
    pdf.cell(
        0, 6,
        f"{config.lieu.name} ({config.lieu.id}) - délai de récupération "
               f"{config.retrieval_days} jours - établi le {made:%d/%m/%Y à %H:%M}",
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    pdf.ln(3)
    _table(pdf, figures)
    _follow_up(pdf, figures)
    _attestations(pdf, figures)
    _chart(pdf, figures)
    _overdue(pdf, figures)
    return bytes(pdf.output())


def _table(pdf: FPDF, figures: Figures) -> None:
    headers = (
        "Commune", "INSEE", "Reçues", "Dans le délai", "Part", "Délai médian (j)",
        "Délai max (j)", "En retard", "Détruites", "Extranet disponible",
    )  # fmt: skip
    pdf.set_font(FONT, size=9)
    total_received = sum(c.received for c in figures.communes)
    total_within = sum(c.within for c in figures.communes)
    delays = [d for c in figures.communes for d in c.delays]
    with pdf.table(line_height=5, text_align="CENTER") as table:
        table.row([h for h in headers])
        for c in figures.communes:
            table.row(
                [
                    c.name, c.insee, str(c.received), str(c.within), _pct(c.share),
                    _num(c.median_delay), _num(c.longest_delay), str(len(c.overdue)),
                    str(c.destroyed), _pct(c.availability),
                ]
            )  # fmt: skip
        table.row(
            [
                "Total", "", str(total_received), str(total_within),
                _pct(total_within / total_received if total_received else None),
                _num(statistics.median(delays) if delays else None),
                _num(max(delays) if delays else None),
                str(sum(len(c.overdue) for c in figures.communes)),
                str(sum(c.destroyed for c in figures.communes)), "",
            ]
        )  # fmt: skip
    pdf.ln(3)


def _follow_up(pdf: FPDF, figures: Figures) -> None:
    treated = sum(c.treated for c in figures.communes)
    outcomes = {k: sum(c.outcomes.get(k, 0) for c in figures.communes) for k in
                ("contactee", "orientee", "sans-suite")}  # fmt: skip
    done = plural(treated, "demande marquée", "demandes marquées")
    text = (
        f"Suivi des demandes (article 3-4) : {done} comme "
        f"{'traitées' if treated > 1 else 'traitée'} dans le mois ; parmi elles, famille "
        f"contactée : {outcomes['contactee']}, orientée : {outcomes['orientee']}, sans suite : "
        f"{outcomes['sans-suite']}."
    )
    pdf.set_font(FONT, size=10)
    pdf.multi_cell(0, 5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _attestations(pdf: FPDF, figures: Figures) -> None:
    states = figures.attestations
    pdf.set_font(FONT, size=10)
    pdf.multi_cell(
        0, 5,
        f"Attestations de destruction : {plural(states.get('signed', 0), 'signée')}, "
               f"{states.get('pending', 0)} à signer dans le délai, "
               f"{states.get('late', 0)} en retard de signature.",
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    seq, link = figures.audit_head
    pdf.set_font(FONT, size=8)
    pdf.multi_cell(
        0, 4,
        f"Journal d'audit à la date du rapport : événement n° {seq}, lien {link} "
               "(ancre également consignée dans audit-anchors.log ; « intake audit verify » "
               "vérifie que le journal la prolonge).",
        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
    )  # fmt: skip
    pdf.ln(2)


def _chart(pdf: FPDF, figures: Figures) -> None:
    """Bars: demandes retrieved each day; dots joined: their median delay (right axis)."""
    width, height = 240.0, 55.0
    if pdf.will_page_break(height + 25):
        pdf.add_page()
    pdf.set_font(FONT, style="B", size=10)
    pdf.cell(0, 6, "Demandes récupérées et délai de récupération, jour par jour",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)  # fmt: skip
    _legend(pdf)
    left, top = pdf.l_margin + 12, pdf.get_y() + 3
    bottom = top + height
    days = (figures.last_day - figures.month).days + 1
    counts = [len(figures.per_day.get(figures.month + timedelta(days=i), [])) for i in range(days)]
    medians = [
        statistics.median(figures.per_day[d]) if (d := figures.month + timedelta(days=i))
        in figures.per_day else None
        for i in range(days)
    ]  # fmt: skip
    top_count = max([*counts, 1])
    top_delay = max([m for m in medians if m is not None] + [1.0])
    step = width / days
    pdf.set_draw_color(0)
    pdf.line(left, bottom, left + width, bottom)
    pdf.line(left, top, left, bottom)
    pdf.line(left + width, top, left + width, bottom)
    pdf.set_font(FONT, size=7)
    for value, y in ((top_count, top), (0, bottom - 2)):
        pdf.set_xy(left - 11, y)
        pdf.cell(10, 3, str(value), align="R")
    pdf.set_xy(left + width + 1, top)
    pdf.cell(10, 3, _num(top_delay))
    pdf.set_fill_color(90, 130, 190)
    for i, count in enumerate(counts):
        x = left + i * step
        if count:
            bar = height * count / top_count
            pdf.rect(x + step * 0.15, bottom - bar, step * 0.7, bar, style="F")
        if (i + 1) % 5 == 0 or i == 0:
            pdf.set_xy(x, bottom + 1)
            pdf.cell(step, 3, str(i + 1), align="C")
    pdf.set_draw_color(200, 80, 40)
    pdf.set_fill_color(200, 80, 40)
    points = [
        (left + (i + 0.5) * step, bottom - height * m / top_delay)
        for i, m in enumerate(medians)
        if m is not None
    ]
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        pdf.line(x1, y1, x2, y2)
    for x, y in points:
        pdf.circle(x=x, y=y, radius=0.9, style="F")
    pdf.set_draw_color(0)
    _axis_titles(pdf, left, top, bottom, width)
    pdf.set_y(bottom + 10)


def _legend(pdf: FPDF) -> None:
    """One legend for both scales: what the bars count, what the dots measure."""
    x, y = pdf.l_margin + 12, pdf.get_y() + 1
    pdf.set_fill_color(90, 130, 190)
    pdf.rect(x, y, 4, 3, style="F")
    pdf.set_font(FONT, size=8)
    pdf.set_xy(x + 5, y - 0.5)
    pdf.cell(80, 4, "demandes récupérées ce jour-là (échelle de gauche)")
    pdf.set_fill_color(200, 80, 40)
    pdf.circle(x=x + 92, y=y + 1.5, radius=0.9, style="F")
    pdf.set_xy(x + 95, y - 0.5)
    pdf.cell(100, 4, "délai médian de récupération, en jours (échelle de droite)")
    pdf.set_y(y + 4)


def _axis_titles(pdf: FPDF, left: float, top: float, bottom: float, width: float) -> None:
    pdf.set_font(FONT, size=7)
    with pdf.rotation(90, left - 9, (top + bottom) / 2):
        pdf.text(left - 9 - 12, (top + bottom) / 2, "demandes")
    with pdf.rotation(90, left + width + 9, (top + bottom) / 2):
        pdf.text(left + width + 9 - 8, (top + bottom) / 2, "jours")
    pdf.set_xy(left, bottom + 5)
    pdf.cell(width, 3, "jour du mois", align="C")


def _overdue(pdf: FPDF, figures: Figures) -> None:
    late = [(c, sorted(c.overdue)) for c in figures.communes if c.overdue]
    pdf.set_font(FONT, style="B", size=10)
    pdf.cell(0, 6, "Demandes en retard de récupération", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=9)
    if not late:
        pdf.cell(0, 5, "Aucune.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for commune, numeros in late:
        pdf.multi_cell(
            0, 5, f"{commune.name} ({commune.insee}) : {', '.join(numeros)}",
            new_x=XPos.LMARGIN, new_y=YPos.NEXT,
        )  # fmt: skip
