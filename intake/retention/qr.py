"""The QR code on each page of an attestation: its number and its manifest's SHA-256, and on
the last page, where the signature goes, a word saying so. Drawn by segno (`mark`), read back
by `intake.retention.scan`."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

PREFIX = "INTAKE-ATTESTATION"
SIGNATURE_PAGE = "SIGNATURE"
CODE = re.compile(rf"{PREFIX}:(\d+):([0-9A-F]{{64}})(:{SIGNATURE_PAGE})?")


@dataclass(frozen=True)
class Found:
    attestation_id: int
    manifest_sha256: str
    signature_page: bool


def payload(attestation_id: int, manifest_sha256: str, signature_page: bool = False) -> str:
    """What a page's code says: alphanumeric (upper case), so that it fits a small code."""
    last = f":{SIGNATURE_PAGE}" if signature_page else ""
    return f"{PREFIX}:{attestation_id}:{manifest_sha256.upper()}{last}"


def mark(attestation_id: int, manifest_sha256: str, signature_page: bool = False) -> bytes:
    """The code as a PNG, 8 pixels a module, light modules opaque (the signature page's code
    covers the ordinary one)."""
    import segno

    text = payload(attestation_id, manifest_sha256, signature_page)
    code = segno.make(text, error="m", micro=False)
    out = io.BytesIO()
    code.save(out, kind="png", scale=8, border=0)
    return out.getvalue()


def parse(text: str) -> Found | None:
    """The attestation a code names, or None for any other code."""
    match = CODE.fullmatch(text)
    if match is None:
        return None
    return Found(int(match.group(1)), match.group(2), match.group(3) is not None)
