"""Signing an attestation: a signatory's PAdES signature that independent tools validate."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlmodel import select

from intake.clock import FixedClock
from intake.retention import Retention, scan
from intake.retention.attestations import Attestations
from intake.retention.signing import SignatureRefused
from intake.sandbox.certificates import signatory
from storage import attestations as attestation_store
from storage.db import transaction
from storage.models import AuditEvent, OutboxMessage
from tests.support.feeds import SAMPLES
from tests.support.lieu import PARIS
from tests.support.poppler import poppler
from tests.support.retention import SIGNATORY, hold
from tests.support.scans import blank, needs_zbar, pages, save, scanned

PURGE_DAY = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
SIGNING_DAY = datetime(2026, 7, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def drafted(engine, vault, lieu_config):
    hold(engine, vault, "ME-2026-0000001", datetime(2026, 1, 10, 9, tzinfo=UTC), PARIS)
    outcome = Retention(lieu_config, engine, vault, FixedClock(PURGE_DAY), "système:test").purge()
    return Attestations(lieu_config, engine, vault, FixedClock(SIGNING_DAY)), outcome.attestation


def certificate(email: str = SIGNATORY, valid_from: datetime = SIGNING_DAY - timedelta(days=30)):
    return signatory("Laetitia Feuga", email, valid_from, passphrase="secret")


def test_a_signatory_signs_and_independent_tools_validate(drafted, tmp_path, vault):
    attestations, number = drafted
    cert = certificate()
    summary = attestations.sign(number, SIGNATORY, cert.pkcs12, "secret")
    assert (summary.state, summary.signed_by, summary.signature_kind) == (
        "signed",
        SIGNATORY,
        "pades",
    )
    signed = attestations.document(number)

    status = validate_pdf_signature(
        PdfFileReader(io.BytesIO(signed)).embedded_signatures[0],
        ValidationContext(
            trust_roots=[load_cert_from_pemder_bytes(cert.authority_pem, tmp_path)],
            moment=SIGNING_DAY + timedelta(hours=1),
        ),
    )
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.signing_cert.subject.native["email_address"] == SIGNATORY

    (tmp_path / "signed.pdf").write_bytes(signed)
    report = poppler("pdfsig", tmp_path / "signed.pdf")
    assert "Signature is Valid." in report
    assert "Total document signed" in report
    assert f"E={SIGNATORY}" in report
    # Signed at the clock's time (not the machine's), stamped in French in the lieu's time.
    assert "Signing Time: Jul 06 2026 09:00:00" in report
    stamp = next(
        line for line in signed.decode("latin-1").splitlines() if "lectroniquement" in line
    )
    # « Signé électroniquement par Laetitia Feuga / le 06/07/2026 à 11:00 », as PDF escapes
    assert r"(Sign\351 \351lectroniquement par Laetitia Feuga)" in stamp
    assert r"(le 06\05707\0572026 \340 11\07200)" in stamp

    with transaction(attestations.engine) as session:
        assert vault.trail.verify(session).ok
    with pytest.raises(SignatureRefused, match="déjà signée"):
        attestations.sign(number, SIGNATORY, cert.pkcs12, "secret")


def load_cert_from_pemder_bytes(pem: bytes, folder):
    path = folder / "authority.pem"
    path.write_bytes(pem)
    return load_cert_from_pemder(str(path))


def test_someone_who_is_not_a_signatory_is_refused(drafted):
    attestations, number = drafted
    cert = certificate("accueil@ville-bron.fr")
    with pytest.raises(SignatureRefused, match="n'est pas signataire"):
        attestations.sign(number, "accueil@ville-bron.fr", cert.pkcs12, "secret")
    assert attestations.listing()[0].state == "pending"


def test_a_certificate_of_someone_else_is_refused(drafted):
    attestations, number = drafted
    cert = certificate("dsi@ville-corbas.fr")
    with pytest.raises(SignatureRefused, match=r"n'est pas celui de l\.feuga@ville-corbas\.fr"):
        attestations.sign(number, SIGNATORY, cert.pkcs12, "secret")


def test_a_wrong_passphrase_or_an_expired_certificate_is_refused(drafted):
    attestations, number = drafted
    with pytest.raises(SignatureRefused, match="phrase secrète"):
        attestations.sign(number, SIGNATORY, certificate().pkcs12, "autre")
    expired = certificate(valid_from=SIGNING_DAY - timedelta(days=800))
    with pytest.raises(SignatureRefused, match="n'est pas valide à cette date"):
        attestations.sign(number, SIGNATORY, expired.pkcs12, "secret")
    assert attestations.listing()[0].signed_by is None


def test_a_copy_signed_by_hand_is_recorded(drafted):
    needs_zbar()
    attestations, number = drafted
    with pytest.raises(SignatureRefused, match="pas un PDF lisible"):
        attestations.record_signed(number, SIGNATORY, b"<html>scan</html>")
    draft = attestations.document(number)
    with pytest.raises(SignatureRefused, match="projet d'attestation lui-même"):
        attestations.record_signed(number, SIGNATORY, draft)  # the draft, unsigned
    copy = scanned(draft, dpi=150, angle=2.5)  # printed, signed, scanned
    summary = attestations.record_signed(number, SIGNATORY, copy)
    assert (summary.state, summary.signature_kind) == ("signed", "manuscrite")
    assert attestations.document(number) == copy  # what is kept and sent: the copy accepted


@pytest.mark.parametrize(
    ("dpi", "angle", "kind"),
    [(150, 2.0, "pdf"), (300, -3.0, "pdf"), (150, 3.0, "png"), (300, -2.0, "jpeg")],
)
def test_a_scan_of_the_draft_is_accepted(drafted, dpi, angle, kind):
    attestations, number = drafted
    copy = scanned(attestations.document(number), dpi=dpi, angle=angle, kind=kind)
    summary = attestations.record_signed(number, SIGNATORY, copy)
    assert summary.signature_kind == "manuscrite"
    kept = attestations.document(number)
    if kind == "pdf":
        assert kept == copy
    else:  # the image, in a PDF page of its own, its bytes unchanged (JPEG) or recompressed
        assert kept.startswith(b"%PDF-")
        assert scan.accept(kept, number, digest_of(attestations, number), 2) == kept


def test_a_familys_pdf_is_never_taken_for_the_signed_copy(drafted):
    """Issue 25: a family's own demande was accepted as « the signed attestation » and
    emailed to the Caf."""
    needs_zbar()
    attestations, number = drafted
    family = (SAMPLES / "ME-2026-0000101.pdf").read_bytes()
    for offered in (family, scanned(family, dpi=150), scanned(family, dpi=300, kind="jpeg")):
        with pytest.raises(SignatureRefused, match="ne porte pas le code de l'attestation n°"):
            attestations.record_signed(number, SIGNATORY, offered)
    assert_nothing_kept_or_sent(attestations, number)
    with transaction(attestations.engine) as session:
        refusals = session.exec(select(AuditEvent).where(AuditEvent.action == "acces-refuse"))
        motifs = [json.loads(e.detail)["motif"] for e in refusals]
    assert motifs == ["copie-non-reconnue"] * 3  # each refusal in the trail


def test_another_attestation_or_a_blank_page_is_refused(drafted, engine, vault, lieu_config):
    attestations, number = drafted
    hold(engine, vault, "ME-2026-0000002", datetime(2026, 2, 10, 9, tzinfo=UTC), PARIS)
    august = datetime(2026, 8, 1, 2, 0, tzinfo=UTC)
    other = Retention(lieu_config, engine, vault, FixedClock(august), "système:test").purge()
    assert other.attestation is not None and other.attestation != number
    other_copy = scanned(attestations.document(other.attestation))
    with pytest.raises(SignatureRefused, match=f"celle de l'attestation n° {other.attestation}"):
        attestations.record_signed(number, SIGNATORY, other_copy)
    with pytest.raises(SignatureRefused, match="la page 1 ne porte pas le code"):
        attestations.record_signed(number, SIGNATORY, save([blank()], 150, "pdf"))
    with pytest.raises(SignatureRefused, match="la page 1 ne porte pas le code"):
        attestations.record_signed(number, SIGNATORY, save([blank()], 150, "png"))
    assert_nothing_kept_or_sent(attestations, number)


def test_a_copy_with_a_foreign_page_or_without_its_signature_page_is_refused(drafted):
    attestations, number = drafted
    draft = attestations.document(number)
    page = pages(scanned(draft), 150)
    family = pages((SAMPLES / "ME-2026-0000101.pdf").read_bytes(), 150)
    assert len(page) == 2  # the list, then the signature alone with the last rows
    with pytest.raises(SignatureRefused, match=r"compte 2 page\(s\), le fichier en a 3"):
        attestations.record_signed(number, SIGNATORY, save(page + family, 150, "pdf"))
    with pytest.raises(SignatureRefused, match="ne porte pas le code"):  # in place of one
        attestations.record_signed(number, SIGNATORY, save(family + page[1:], 150, "pdf"))
    with pytest.raises(SignatureRefused, match=r"la page de signature .* manque"):
        attestations.record_signed(number, SIGNATORY, save(page[:1], 150, "pdf"))
    with pytest.raises(SignatureRefused, match="dépasse 20 Mo"):
        attestations.record_signed(number, SIGNATORY, scanned(draft) + b"\0" * scan.MAX_BYTES)
    assert_nothing_kept_or_sent(attestations, number)


def digest_of(attestations, number) -> str:
    with transaction(attestations.engine) as session:
        found = attestation_store.get(session, number)
        assert found is not None and found.manifest_sha256 is not None
        return found.manifest_sha256


def outbox(engine) -> list[OutboxMessage]:
    with transaction(engine) as session:
        return list(session.exec(select(OutboxMessage)))


def assert_nothing_kept_or_sent(attestations, number) -> None:
    assert attestations.listing()[0].signed_by is None
    with transaction(attestations.engine) as session:
        found = attestation_store.get(session, number)
        assert found is not None and found.signed_pdf is None
    assert [m for m in outbox(attestations.engine) if m.attestation_id is not None] == []
