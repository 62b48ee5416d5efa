import hashlib
import os

import pytest

from intake.feed.errors import Code
from intake.feed.model import DocumentPdf
from intake.feed.pdf import FolderPdfSource, PdfMissingError, check_pdf
from tests.support.feeds import SAMPLE_PDF


def declared(content: bytes, size: int | None = None) -> DocumentPdf:
    return DocumentPdf(
        nom="ME-2026-0000001.pdf",
        sha256=hashlib.sha256(content).hexdigest(),
        taille=len(content) if size is None else size,
    )


def test_a_real_pdf_passes():
    assert check_pdf(declared(SAMPLE_PDF), SAMPLE_PDF) is None


@pytest.mark.parametrize(
    ("content", "document", "words"),
    [
        (SAMPLE_PDF + b"x", declared(SAMPLE_PDF), "plus grand"),
        (SAMPLE_PDF[:-1], declared(SAMPLE_PDF), "plus petit"),
        (
            SAMPLE_PDF[:100] + bytes([SAMPLE_PDF[100] ^ 1]) + SAMPLE_PDF[101:],
            declared(SAMPLE_PDF),
            "SHA-256",
        ),
        (
            b"<html><body>%PDF-1.4</body></html>",
            declared(b"<html><body>%PDF-1.4</body></html>"),
            "n'est pas un PDF",
        ),
        (b"%PDF-1.7\n garbage", declared(b"%PDF-1.7\n garbage"), "lisible"),
    ],
)
def test_invalid_pdfs(content, document, words):
    violation = check_pdf(document, content)
    assert violation is not None and violation.code == Code.PDF_INVALIDE
    assert words in violation.message


def test_reading_never_goes_past_the_declared_size(tmp_path):
    big = tmp_path / "ME-2026-0000001.pdf"
    with big.open("wb") as stream:  # sparse: 2 GB on paper, nothing on disk
        stream.truncate(2 * 1024**3)
    content = FolderPdfSource(tmp_path).fetch(declared(SAMPLE_PDF), "ME-2026-0000001")
    assert len(content) == len(SAMPLE_PDF) + 1


def test_a_declared_size_of_2_gb_with_a_small_file(tmp_path):
    (tmp_path / "ME-2026-0000001.pdf").write_bytes(SAMPLE_PDF)
    document = declared(SAMPLE_PDF, size=2 * 1024**3)
    content = FolderPdfSource(tmp_path).fetch(document, "ME-2026-0000001")
    assert check_pdf(document, content).code == Code.PDF_INVALIDE


def test_missing_pdf_and_folder_entries_that_are_not_files(tmp_path):
    with pytest.raises(PdfMissingError):
        FolderPdfSource(tmp_path).fetch(declared(SAMPLE_PDF), "ME-2026-0000001")
    (tmp_path / "ME-2026-0000001.pdf").mkdir()
    with pytest.raises(PdfMissingError):
        FolderPdfSource(tmp_path).fetch(declared(SAMPLE_PDF), "ME-2026-0000001")


@pytest.mark.parametrize("name", ["../secret.pdf", "/tmp/secret.pdf", "sous/ME.pdf", ".."])
def test_a_name_out_of_the_folder_is_never_read(tmp_path, name):
    folder = tmp_path / "depot"
    (folder / "sous").mkdir(parents=True)
    for where in (tmp_path / "secret.pdf", folder / "sous" / "ME.pdf"):
        where.write_bytes(SAMPLE_PDF)
    document = declared(SAMPLE_PDF).model_copy(update={"nom": name})
    with pytest.raises(PdfMissingError, match="nom de fichier refusé"):
        FolderPdfSource(folder).fetch(document, "ME-2026-0000001")


def test_a_link_or_a_tube_is_not_read(tmp_path):
    secret = tmp_path / "master.key"
    secret.write_bytes(SAMPLE_PDF)
    folder = tmp_path / "depot"
    folder.mkdir()
    (folder / "ME-2026-0000001.pdf").symlink_to(secret)
    with pytest.raises(PdfMissingError, match="lien symbolique"):
        FolderPdfSource(folder).fetch(declared(SAMPLE_PDF), "ME-2026-0000001")
    (folder / "ME-2026-0000001.pdf").unlink()
    os.mkfifo(folder / "ME-2026-0000001.pdf")  # read blocking, it would wait for a writer
    with pytest.raises(PdfMissingError, match="fichier ordinaire"):
        FolderPdfSource(folder).fetch(declared(SAMPLE_PDF), "ME-2026-0000001")
