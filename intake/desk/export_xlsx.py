"""The export as an XLSX workbook that spreadsheets keep as it is: codes as text (01000
stays 01000, INSEE and allocataire numbers are never numbers), dates as dates, French
headers on a frozen first row, columns wide enough to read. No cell is ever a formula."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.cell import Cell as SheetCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from intake.desk.export_table import Cell, Column

FORMATS = {
    "code": "@",
    "text": "@",
    "date": "DD/MM/YYYY",
    "instant": "DD/MM/YYYY HH:MM",
    "number": "0",
}
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(
    columns: Sequence[Column], lines: Sequence[Sequence[Cell]], now: datetime, title: str
) -> bytes:
    """The lines under their headers, on one sheet named `title`."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    book.properties.creator = "monenfant-intake"
    book.properties.created = book.properties.modified = now.replace(tzinfo=None)
    for index, column in enumerate(columns, start=1):
        header = sheet.cell(row=1, column=index, value=column.header)
        header.font = Font(bold=True)
        header.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for number, line in enumerate(lines, start=2):
        for index, (column, value) in enumerate(zip(columns, line, strict=True), start=1):
            cell = sheet.cell(row=number, column=index)
            assert isinstance(cell, SheetCell)
            _put(cell, column, value)
    sheet.freeze_panes = "A2"
    if lines:
        sheet.auto_filter.ref = sheet.dimensions
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def _put(cell: SheetCell, column: Column, value: Cell) -> None:
    if value is None:
        return
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # « =… » stays text, never a formula
    cell.number_format = FORMATS[column.kind]
