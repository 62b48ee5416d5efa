"""The attestation's layout holds for the largest purges."""

from __future__ import annotations

import io
import warnings
from datetime import UTC, datetime

from pypdf import PdfReader

from intake.retention import attestation_pdf
from tests.support.poppler import poppler


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


def test_the_signature_block_is_never_alone_on_a_page():
    # Around the counts whose last rows end near the block on page 1 and page 2.
    for count in [1, *range(12, 24), *range(56, 76)]:
        pdf = attestation_pdf.render(
            manifest(count), "f" * 64, [], datetime(2026, 11, 1, tzinfo=UTC)
        )
        last = PdfReader(io.BytesIO(pdf)).pages[-1].extract_text()
        assert "Signature d'une personne habilitée" in last, count
        assert "ME-2026-" in last, count  # rows of the list came with it


def test_pages_as_drawn(tmp_path):
    """16 demandes (the count that once left the signature alone on page 2), drawn by
    poppler: as many images as pages, the block with the last rows."""
    path = tmp_path / "attestation.pdf"
    path.write_bytes(
        attestation_pdf.render(manifest(16), "f" * 64, [], datetime(2026, 11, 1, tzinfo=UTC))
    )
    poppler("pdftoppm", "-r", "40", "-png", path, tmp_path / "page")
    drawn = sorted(tmp_path.glob("page*.png"))
    assert len(drawn) == len(PdfReader(path).pages) == 2
    assert "16 demandes dont" in poppler("pdftotext", path, "-")


def test_every_page_carries_the_attestations_code_the_last_its_signatures():
    """By these codes a copy signed by hand is known to be this attestation (issue 25)."""
    from intake.retention import qr, scan
    from tests.support.scans import pages

    digest = "0123456789abcdef" * 4
    pdf = attestation_pdf.render(manifest(150), digest, [], datetime(2026, 11, 1, tzinfo=UTC))
    codes = [scan._codes(page) for page in pages(pdf, 150)]
    assert len(codes) > 2
    ordinary = qr.Found(7, digest.upper(), signature_page=False)
    assert codes[:-1] == [[ordinary]] * (len(codes) - 1)
    assert codes[-1] == [qr.Found(7, digest.upper(), signature_page=True)]
    assert qr.payload(7, digest) == f"INTAKE-ATTESTATION:7:{digest.upper()}"
