"""A printed, signed and scanned copy of a PDF, as a scanner makes it: the pages rasterised at
its resolution, a little askew, with specks, a scribbled signature, saved as PDF, or its last
page (the signature's) as PNG or JPEG."""

from __future__ import annotations

import io
import random

import pypdfium2
from PIL import Image, ImageDraw

from tests.support.required import missing


def needs_zbar() -> None:
    """The copy's codes are read by zbar (Debian's libzbar0): required in CI."""
    try:
        import pyzbar.pyzbar  # noqa: F401
    except ImportError:
        missing("libzbar0", "apt-get install libzbar0")


def pages(pdf: bytes, dpi: int) -> list[Image.Image]:
    needs_zbar()  # what is rasterised here is decoded next
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("L") for page in document]
    finally:
        document.close()


def scanned(
    pdf: bytes, *, dpi: int = 150, angle: float = 2.5, noise: float = 0.02, kind: str = "pdf"
) -> bytes:
    rng = random.Random(dpi)  # the same specks each run
    sheets = [_scan(page, dpi, angle, noise, rng) for page in pages(pdf, dpi)]
    return save(sheets, dpi, kind)


def save(sheets: list[Image.Image], dpi: int, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "pdf":
        rgb = [s.convert("RGB") for s in sheets]
        rgb[0].save(out, "PDF", resolution=dpi, save_all=True, append_images=rgb[1:])
    elif kind == "png":
        sheets[-1].save(out, "PNG", dpi=(dpi, dpi))
    else:
        sheets[-1].convert("RGB").save(out, "JPEG", quality=75, dpi=(dpi, dpi))
    return out.getvalue()


def blank(dpi: int = 150) -> Image.Image:
    return Image.new("L", (int(8.27 * dpi), int(11.69 * dpi)), 255)


def _scan(
    page: Image.Image, dpi: int, angle: float, noise: float, rng: random.Random
) -> Image.Image:
    draw = ImageDraw.Draw(page)
    # A signature in the box at 110-195 mm across, 240-275 mm down.
    mm = dpi / 25.4
    points = [(int((120 + 6 * i) * mm), int((255 + rng.uniform(-8, 8)) * mm)) for i in range(12)]
    draw.line(points, fill=20, width=max(2, int(0.6 * mm)))
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    pixels = page.load()
    assert pixels is not None
    for _ in range(int(page.width * page.height * noise)):
        x, y = rng.randrange(page.width), rng.randrange(page.height)
        pixels[x, y] = rng.choice((0, 90, 170, 255))
    return page
