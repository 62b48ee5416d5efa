"""Made-up signing certificates for the sandbox and the demo: a test authority and a
signatory's key, as a PKCS#12 file the way a lieu receives one. Never for real signatures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class DemoCertificate:
    pkcs12: bytes
    authority_pem: bytes


def _name(common_name: str, email: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Autorité de test monenfant-intake"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if email:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(attributes)


def signatory(
    name: str,
    email: str,
    valid_from: datetime,
    days: int = 730,
    passphrase: str = "demo",  # noqa: S107  (a made-up certificate for the demo)
) -> DemoCertificate:
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority = _name("Autorité de test (ne pas faire confiance)")
    authority_cert = (
        x509.CertificateBuilder()
        .subject_name(authority)
        .issuer_name(authority)
        .public_key(authority_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from - timedelta(days=1))
        .not_valid_after(valid_from + timedelta(days=days + 1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(authority_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(name, email))
        .issuer_name(authority)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from - timedelta(days=1))
        .not_valid_after(valid_from + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .sign(authority_key, hashes.SHA256())
    )
    bundle = pkcs12.serialize_key_and_certificates(
        name.encode("utf-8"),
        key,
        certificate,
        [authority_cert],
        serialization.BestAvailableEncryption(passphrase.encode("utf-8")),
    )
    return DemoCertificate(bundle, authority_cert.public_bytes(serialization.Encoding.PEM))
