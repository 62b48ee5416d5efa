"""The attestation's layout holds for the largest purges."""

from __future__ import annotations

import io
import warnings
from datetime import UTC, datetime

from pypdf import PdfReader

from intake import attestation_pdf
from tests.poppler import poppler


def manifest(count: int) -> dict[str, object]:
    return {
        "attestation": 7,
        "motif": "conservation-6-mois",
        "lieu": {"id": "LI-69-0042", "nom": "CCAS de Corbas"},
        "convention": {"signee_le": "2026-01-05"},
        "communes": {"69273": "Corbas"},
        "periode": {
            "premiere_echeance": "2026-11-01",
            "derniere_echeance": "2026-11-30",
            "destruction_debut": "2026-11-01",
            "destruction_fin": "2026-11-01",
        },
        "signer_avant": "2026-12-01",
        "journal_audit": {"sequence": count, "empreinte": "a" * 64},
        "demandes": [
            {
                "numero": f"ME-2026-{i:07d}",
                "commune": "69273",
                "transmise": "2026-05-01",
                "echeance": "2026-11-01",
                "detruite": "2026-11-01",
            }
            for i in range(1, count + 1)
        ],
    }


def test_a_purge_of_a_thousand_pages_numbers_them_all():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # fpdf2 warns when the page count overflows its room
        pdf = attestation_pdf.render(
            manifest(66_000), "f" * 64, [], datetime(2026, 11, 1, tzinfo=UTC)
        )
    reader = PdfReader(io.BytesIO(pdf))
    pages = len(reader.pages)
    assert pages > 1000
    last = reader.pages[-1].extract_text()
    assert f"page {pages}/{pages}" in last
    assert "ME-2026-0066000" in reader.pages[-2].extract_text() + last


NAMES = "Thảo Nguyễn Œlschläger Ødegård"


def test_every_name_prints_as_written_with_an_embedded_font(tmp_path):
    signatory = {"name": NAMES, "function": "Directrice — CCAS", "email": "d@ville.fr"}
    pdf = attestation_pdf.render(
        manifest(3), "f" * 64, [signatory], datetime(2026, 11, 1, tzinfo=UTC)
    )
    path = tmp_path / "attestation.pdf"
    path.write_bytes(pdf)
    assert NAMES in poppler("pdftotext", path, "-")
    fonts = poppler("pdffonts", path).splitlines()[2:]
    assert fonts and all(" yes " in line and "DejaVu" in line for line in fonts)  # embedded
