"""`intake export --format xlsx`: a workbook the spreadsheet keeps as written, readable by
its owner alone."""

from __future__ import annotations

import stat
from datetime import date, datetime

import openpyxl

from tests.e2e.conftest import Intake, give_password
from tests.support.feeds import SAMPLES

AGENT = "l.feuga@ville-corbas.fr"


def test_the_xlsx_export_from_the_command_line(initialised: Intake):
    assert initialised("ingest", str(SAMPLES / "flux-69273-corbas.xml")).code == 0
    output = initialised.folder / "demandes.xlsx"
    password = give_password(initialised, AGENT)
    run = initialised(
        "export", "--agent", AGENT, "--format", "xlsx", "-o", str(output), input=password
    )
    assert run.code == 0 and "3 demandes exportées" in run.out, run.err
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    sheet = openpyxl.load_workbook(output).active
    headers = [c.value for c in sheet[1]]
    assert headers[0] == "Numéro" and sheet.freeze_panes == "A2"
    rows = [dict(zip(headers, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == 3
    for row in rows:
        assert row["Commune (INSEE)"].data_type == "s"
        assert row["Responsable 1 : code postal"].data_type == "s"
        assert isinstance(row["À détruire au plus tard le"].value, datetime | date)
