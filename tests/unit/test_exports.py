"""Export cells that no spreadsheet runs as a formula."""

from __future__ import annotations

import pytest

from intake.desk.exports import safe_cell


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),  # shown as +33…, never summed
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Lefèvre-Dupont", "Lefèvre-Dupont"),
        ("06 12 34 56 78", "06 12 34 56 78"),
        (None, ""),
        (3, "3"),
    ],
)
def test_formula_starts_are_neutralised(value: object, expected: str):
    assert safe_cell(value) == expected
