"""The Unicode font of every PDF the worker makes, embedded (as a subset) in the file.

fpdf2's core fonts know Latin-1 only: « Nguyễn » came out « Nguy?n ». DejaVu Sans ships
inside this package (intake/fonts/), so a fresh `pip install` is enough on any machine.
"""

from __future__ import annotations

from importlib import resources

from fpdf import FPDF

FONT = "DejaVu"


def use_unicode_font(pdf: FPDF) -> None:
    folder = resources.files("intake") / "fonts"
    pdf.add_font(FONT, "", str(folder / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(folder / "DejaVuSans-Bold.ttf"))
