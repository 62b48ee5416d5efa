"""Signing an attestation: a signatory's PAdES signature that independent tools validate."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from intake.clock import FixedClock
from intake.retention import Retention
from intake.retention.attestations import Attestations
from intake.retention.signing import SignatureRefused
from intake.sandbox.certificates import signatory
from storage.db import transaction
from tests.support.lieu import PARIS
from tests.support.poppler import poppler
from tests.support.retention import SIGNATORY, hold

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
    attestations, number = drafted
    with pytest.raises(SignatureRefused, match="pas un PDF lisible"):
        attestations.record_signed(number, SIGNATORY, b"<html>scan</html>")
    draft = attestations.document(number)
    with pytest.raises(SignatureRefused, match="projet d'attestation lui-même"):
        attestations.record_signed(number, SIGNATORY, draft)  # the draft, unsigned
    scan = draft.replace(b"%%EOF", b"%%EOF\n% scanned")  # printed, signed, scanned: a PDF
    summary = attestations.record_signed(number, SIGNATORY, scan)
    assert (summary.state, summary.signature_kind) == ("signed", "manuscrite")
