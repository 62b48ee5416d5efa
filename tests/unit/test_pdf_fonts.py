"""The font's remembered encoding writes exactly what fpdf2's own would."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

from fpdf import FPDF
from fpdf.fonts import TTFFont

from intake.pdf_fonts import FONT, use_unicode_font

LINES = [
    "Nguyễn Thị Ánh (n° 2026-000123) \\ « crèche » 01/05/2026",
    "Ω ≠ ∞ ; parenthèses ( ) et barres \\ ; chiffres 0123456789",
    "𝔘 absent de DejaVu",  # a missing glyph is dropped by both
    "Nguyễn encore, déjà choisi",
]


def _document(remembering: bool) -> bytes:
    pdf = FPDF()
    pdf.set_compression(False)
    pdf.set_creation_date(datetime(2026, 12, 3, tzinfo=UTC))
    if remembering:
        use_unicode_font(pdf)
    else:
        folder = resources.files("intake") / "fonts"
        pdf.add_font(FONT, "", str(folder / "DejaVuSans.ttf"))
        pdf.add_font(FONT, "B", str(folder / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    for style in ("", "B"):
        pdf.set_font(FONT, style=style, size=9)
        for number, line in enumerate(LINES * 3):
            pdf.text(10, 10 + number * 5, line)
        pdf.cell(0, 5, "Cellule : « à traiter »")
        pdf.add_page()
    return bytes(pdf.output())


def test_the_remembered_encoding_writes_the_same_bytes_as_fpdf2() -> None:
    assert _document(remembering=True) == _document(remembering=False)


def test_every_font_of_the_documents_remembers() -> None:
    pdf = FPDF()
    use_unicode_font(pdf)
    fonts = list(pdf.fonts.values())
    assert len(fonts) == 2
    assert all(isinstance(f, TTFFont) and type(f) is not TTFFont for f in fonts)
