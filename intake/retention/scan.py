"""A copy signed by hand is this attestation, or it is refused.

Every page of a draft carries a QR code naming the attestation and its manifest's SHA-256
(`qr.mark`); the last page's, where the signature goes, says so too. A copy offered as signed (a
PDF of scanned pages, or the signature page as a PNG or JPEG) is accepted only if each of its
pages carries this attestation's code, one of them the signature page's, and it has no more
pages than the draft (`accept`): a family's demande, another attestation, a blank or foreign
page is refused before anything is stored or sent. The copy kept and sent to the Caf is the file
accepted (an image is only wrapped in a PDF page, its bytes unchanged).

Decoding: PDFium (pypdfium2) renders each page, zbar (Debian's libzbar0, through pyzbar)
reads the codes. Both are imported when a copy comes: a worker that never signs does
without them.
"""

from __future__ import annotations

import io
import math
import threading
from typing import TYPE_CHECKING

from intake.retention import qr
from intake.retention.qr import Found
from intake.retention.signing import SignatureRefused

if TYPE_CHECKING:
    from PIL import Image

MAX_BYTES = 20 * 1024 * 1024
RENDER_DPI = 200  # enough for a code of 20 mm scanned at 150 dpi
MAX_PAGE_PIXELS = 40_000_000  # a page declared 5 m wide is rendered smaller, not in 8 GB
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
# PDFium is not thread-safe, and the console decodes in a thread pool.
_PDFIUM = threading.Lock()


def page_count(pdf: bytes) -> int:
    """The pages of a PDF of ours (the draft)."""
    import pypdfium2

    with _PDFIUM:
        document = pypdfium2.PdfDocument(pdf)
        try:
            return len(document)
        finally:
            document.close()


def accept(data: bytes, attestation_id: int, manifest_sha256: str, draft_pages: int) -> bytes:
    """The PDF to keep and send, if `data` is a copy of this attestation; else refused."""
    number = f"l'attestation n° {attestation_id}"
    if len(data) > MAX_BYTES:
        raise SignatureRefused(
            f"le fichier dépasse {MAX_BYTES // (1024 * 1024)} Mo : numérisez {number} en "
            "noir et blanc ou à 150-300 ppp"
        )
    if data.startswith(_PNG) or data.startswith(_JPEG):
        pages, keep = _image_pages(data), None
    elif data.lstrip()[:5] == b"%PDF-":
        pages, keep = None, data
    else:
        raise SignatureRefused(
            "le fichier n'est pas un PDF lisible, ni une image PNG ou JPEG : déposez la copie "
            f"numérisée de {number}"
        )
    if pages is not None:
        _check_count(1, draft_pages, number)
        found = [_codes(pages)]
        image = pages
    else:
        found = _pdf_codes(data, draft_pages, number)
        image = None
    for index, codes in enumerate(found, start=1):
        _check_page(index, codes, attestation_id, manifest_sha256.upper())
    if not any(code.signature_page for codes in found for code in codes):
        raise SignatureRefused(
            f"la page de signature de {number} (la dernière, avec le cadre « Signature ») "
            "manque à cette copie : rien n'a été enregistré ni envoyé"
        )
    if keep is not None:
        return keep
    assert image is not None
    return _image_as_pdf(data, image)


def _check_count(pages: int, draft_pages: int, number: str) -> None:
    if pages == 0:
        raise SignatureRefused("le fichier ne contient aucune page")
    if pages > draft_pages:
        raise SignatureRefused(
            f"{number} compte {draft_pages} page(s), le fichier en a {pages} : la copie "
            "signée ne doit contenir que ses pages (pas de verso blanc, pas d'autre document)"
        )


def _check_page(index: int, codes: list[Found], attestation_id: int, digest: str) -> None:
    number = f"l'attestation n° {attestation_id}"
    if not codes:
        raise SignatureRefused(
            f"la page {index} ne porte pas le code de {number} (carré en haut à droite) : ce "
            "n'est pas une page de cette attestation, ou elle est illisible ; rien n'a été "
            "enregistré ni envoyé"
        )
    for code in codes:
        if code.attestation_id != attestation_id:
            raise SignatureRefused(
                f"la page {index} est celle de l'attestation n° {code.attestation_id}, pas de "
                f"{number} ; rien n'a été enregistré ni envoyé"
            )
        if code.manifest_sha256 != digest:
            raise SignatureRefused(
                f"la page {index} porte le numéro de {number} mais pas l'empreinte de son "
                "manifeste : ce n'est pas ce document ; rien n'a été enregistré ni envoyé"
            )


def _pdf_codes(data: bytes, draft_pages: int, number: str) -> list[list[Found]]:
    import pypdfium2

    with _PDFIUM:
        try:
            document = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError:
            raise SignatureRefused("le fichier n'est pas un PDF lisible") from None
        try:
            _check_count(len(document), draft_pages, number)
            found = []
            for page in document:
                try:
                    width, height = page.get_size()
                    scale = RENDER_DPI / 72
                    if width * height * scale * scale > MAX_PAGE_PIXELS:
                        scale = math.sqrt(MAX_PAGE_PIXELS / (width * height))
                    bitmap = page.render(scale=scale, grayscale=True)
                    image = bitmap.to_pil()
                finally:
                    page.close()
                found.append(_codes(image))
            return found
        finally:
            document.close()


def _image_pages(data: bytes) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ("PNG", "JPEG"):
            raise SignatureRefused("l'image n'est ni un PNG ni un JPEG")
        if image.width * image.height > MAX_PAGE_PIXELS:
            raise SignatureRefused(
                f"l'image est trop grande ({image.width} × {image.height} points) : "
                "numérisez à 150-300 ppp"
            )
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise SignatureRefused("le fichier n'est pas une image lisible") from None
    return image


def _codes(image: Image.Image) -> list[Found]:
    try:
        from pyzbar import pyzbar
    except ImportError:  # pyzbar loads Debian's libzbar0 with ctypes
        raise SignatureRefused(
            "la copie signée ne peut pas être lue sur ce serveur : il y manque la bibliothèque "
            "zbar (en root : apt install libzbar0) ; rien n'a été enregistré"
        ) from None

    found = []
    for symbol in pyzbar.decode(image.convert("L"), symbols=[pyzbar.ZBarSymbol.QRCODE]):
        code = qr.parse(symbol.data.decode("ascii", errors="replace"))
        if code is not None:
            found.append(code)
    return found


def _image_as_pdf(data: bytes, image: Image.Image) -> bytes:
    """One A4 page holding the image as it came (fpdf2 embeds a JPEG's bytes unchanged)."""
    from fpdf import FPDF

    portrait = image.height >= image.width
    pdf = FPDF(orientation="P" if portrait else "L", unit="mm", format="A4")
    pdf.set_creator("monenfant-intake")
    pdf.add_page()
    ratio = min(pdf.w / image.width, pdf.h / image.height)
    width, height = image.width * ratio, image.height * ratio
    pdf.image(io.BytesIO(data), x=(pdf.w - width) / 2, y=(pdf.h - height) / 2, w=width, h=height)
    return bytes(pdf.output())
