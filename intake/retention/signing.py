"""Signing an attestation: a PAdES signature (pyHanko) by a signatory, or a copy signed by hand.

Who may sign is the lieu's decision ([[staff]] with the `signatory` duty); that the
certificate is theirs is checked by its email address (subject or alternative name).
Trust in the issuing authority is the reader's to judge (`pdfsig`, Acrobat): the lieu may
use any certificate its Caf accepts.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from intake.errors import IntakeError

if TYPE_CHECKING:
    from pyhanko.sign import signers

# pyHanko, pypdf and fpdf2 are imported by the functions that sign or read a PDF: this
# module is imported wherever attestations are listed (the daemon, the console), and a
# worker that never signs should not carry them.


class SignatureRefused(IntakeError):
    """Why a signature cannot be made or recorded, in French."""


class NotTheirs(SignatureRefused):
    """A certificate that does not bear the signer's address: someone else's."""


@dataclass(frozen=True)
class Credentials:
    key: object
    certificate: x509.Certificate
    chain: list[x509.Certificate]


def load_pkcs12(data: bytes, passphrase: str | None) -> Credentials:
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            data, passphrase.encode("utf-8") if passphrase else None
        )
    except ValueError:
        raise SignatureRefused("fichier PKCS#12 illisible ou phrase secrète incorrecte") from None
    if key is None or certificate is None:
        raise SignatureRefused("le fichier PKCS#12 ne contient pas de clé privée et son certificat")
    return Credentials(key, certificate, list(chain))


def certificate_emails(certificate: x509.Certificate) -> set[str]:
    emails = {
        str(a.value).casefold()
        for a in certificate.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
    }
    try:
        alternative = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        emails |= {e.casefold() for e in alternative.value.get_values_for_type(x509.RFC822Name)}
    except x509.ExtensionNotFound:
        pass
    return emails


def check_certificate(credentials: Credentials, signer: str, now: datetime) -> None:
    certificate = credentials.certificate
    emails = certificate_emails(certificate)
    if signer.casefold() not in emails:
        shown = ", ".join(sorted(emails)) or "aucune adresse"
        raise NotTheirs(f"le certificat n'est pas celui de {signer} (il porte : {shown})")
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise SignatureRefused(
            f"le certificat de {signer} n'est pas valide à cette date (valide du "
            f"{certificate.not_valid_before_utc:%d/%m/%Y} au "
            f"{certificate.not_valid_after_utc:%d/%m/%Y})"
        )


def _signer_at(at: datetime) -> type[signers.PdfSigner]:
    """pyHanko's signer, its signing time the clock's (not the machine's): the demo signs
    at its story's date, and the stamp says the same time as the signature."""
    from pyhanko.pdf_utils.writer import BasePdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_signer import PdfSigningSession

    class SignerAt(signers.PdfSigner):
        def init_signing_session(
            self, pdf_out: BasePdfFileWriter, existing_fields_only: bool = False
        ) -> PdfSigningSession:
            session = super().init_signing_session(pdf_out, existing_fields_only)
            session.system_time = at
            return session

    return SignerAt


STAMP = "Signé électroniquement par %(signer)s\nle %(quand)s"


def sign_pades(
    pdf: bytes, pkcs12_data: bytes, passphrase: str | None, name: str, now: datetime
) -> bytes:
    """A PAdES baseline signature in the attestation's signature box, stamped in French with
    the lieu's local time (`now` carries the lieu's zone)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import TextStampStyle

    from intake.retention.attestation_pdf import SIGNATURE_BOX, SIGNATURE_FIELD

    signer = signers.SimpleSigner.load_pkcs12_data(
        pkcs12_data, other_certs=[], passphrase=passphrase.encode("utf-8") if passphrase else None
    )
    if signer is None:
        raise SignatureRefused("fichier PKCS#12 illisible ou phrase secrète incorrecte")
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    # pyHanko types the box as ints; a PDF rectangle is in points, and it writes them as given.
    spec = fields.SigFieldSpec(SIGNATURE_FIELD, on_page=-1, box=SIGNATURE_BOX)  # type: ignore[arg-type]
    fields.append_signature_field(writer, spec)
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="Attestation de destruction de données à caractère personnel",
        name=name,
    )
    style = TextStampStyle(stamp_text=STAMP, border_width=1)
    pdf_signer = _signer_at(now)(metadata, signer=signer, stamp_style=style)
    quand = f"{now:%d/%m/%Y} à {now:%H:%M}"
    signed: bytes = pdf_signer.sign_pdf(writer, appearance_text_params={"quand": quand}).getvalue()
    _check_intact(signed)
    return signed


def _check_intact(signed: bytes) -> None:
    """The signature just made covers the whole document and its digest matches. (pyHanko
    logs, with a traceback, that it cannot build a trust path: it is not asked to.)"""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    logging.getLogger("pyhanko.sign.validation").setLevel(logging.CRITICAL)
    reader = PdfFileReader(io.BytesIO(signed))
    # Integrity only: whom to trust is the reader's choice, not ours (no OS trust list).
    status = validate_pdf_signature(
        reader.embedded_signatures[0], ValidationContext(trust_roots=[]), skip_diff=False
    )
    if not status.intact or not status.valid:
        raise SignatureRefused("la signature produite ne se vérifie pas ; rien n'a été enregistré")
