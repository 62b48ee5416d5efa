"""The Unicode font of every PDF the worker makes, embedded (as a subset) in the file.

fpdf2's core fonts know Latin-1 only: « Nguyễn » came out « Nguy?n ». DejaVu Sans ships
inside this package (intake/fonts/), so a fresh `pip install` is enough on any machine.
"""

from __future__ import annotations

from importlib import resources
from weakref import WeakKeyDictionary

from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

FONT = "DejaVu"


class _SubsetTable(dict[int, str | None]):
    """Code point → the character standing for its glyph in the font's subset, picked from
    the subset on first use (as fpdf2 does for every character of every call) and kept."""

    def __init__(self, subset: SubsetMap) -> None:
        super().__init__()
        self._subset = subset

    def __missing__(self, code: int) -> str | None:
        picked = self._subset.pick(code)
        value = None if picked is None else chr(picked)
        self[code] = value
        return value


_tables: WeakKeyDictionary[SubsetMap, _SubsetTable] = WeakKeyDictionary()


class _RememberingFont(TTFFont):
    """fpdf2's TrueType font, its text encoded by one `str.translate` over the characters
    already picked instead of a subset lookup and a string concatenation per character:
    the attestation of a 100,000-demande purge writes 100,000 lines, and fpdf2's own encoding
    was half of its layout time. Same output, byte for byte (the same picks, in the same
    order)."""

    __slots__ = ()

    def encode_text(self, text: str) -> str:
        table = _tables.get(self.subset)
        if table is None:
            table = _tables[self.subset] = _SubsetTable(self.subset)
        return f"({self.escape_text(self._map_symbol_text(text).translate(table))}) Tj"


def use_unicode_font(pdf: FPDF) -> None:
    folder = resources.files("intake") / "fonts"
    pdf.add_font(FONT, "", str(folder / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(folder / "DejaVuSans-Bold.ttf"))
    for font in pdf.fonts.values():
        if type(font) is TTFFont:
            font.__class__ = _RememberingFont
