"""The attestation states only what holds: which purge-day keys were destroyed and when, that
database backups cannot open them, until when a copy of the key store may still exist."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from pypdf import PdfReader

from intake.retention import attestation_pdf
from tests.unit.test_attestation_pdf import manifest


def text_of(content: dict[str, object]) -> str:
    pdf = attestation_pdf.render(content, "f" * 64, [], datetime(2026, 11, 1, tzinfo=UTC))
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def test_the_keys_destroyed_their_day_and_how_long_a_key_store_copy_may_live():
    content = manifest(3)
    content["cles"] = {
        "echeances_detruites": ["2026-11-01", "2026-11-30"],
        "detruites_le": "2026-11-01",
        "copies_magasin_jusqu_au": "2026-12-01",
    }
    text = text_of(content)
    assert "a été détruite le 01/11/2026 (2 clés, des échéances du 01/11/2026 au 30/11/2026)" in (
        text
    )
    assert "Les sauvegardes de la base ne contiennent pas ces clés" in text
    assert "peut encore exister jusqu'au 01/12/2026 au plus tard" in text
    assert "ni un tiers qui détiendrait une ancienne sauvegarde" not in text


def test_an_attestation_drafted_before_the_key_store_claims_nothing_of_backups():
    text = text_of(manifest(3))
    assert "sauvegarde" not in text.split("Annexe 1")[0]


def test_demandes_older_than_the_key_store_leave_older_backups_able_to_read():
    content = manifest(3)
    content["cles"] = {
        "echeances_detruites": ["2026-11-01"],
        "detruites_le": "2026-11-01",
        "copies_magasin_jusqu_au": "2026-12-01",
        "cle_maitresse_jusqu_au": "2026-06-20",
    }
    text = text_of(content)
    assert "aucune, ancienne ou future" not in text
    assert "Les sauvegardes de la base faites depuis le 20/06/2026" in text
    assert "Une sauvegarde plus ancienne garde encore la clé" in text
    assert "Exception : avant le 20/06/2026" in text
