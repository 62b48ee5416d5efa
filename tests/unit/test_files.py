"""Files people name or drop: read as regular files only, written never through a link."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from intake.files import RefusedFileError, open_regular, plain_name, write_private


def _target(tmp_path: Path) -> Path:
    target = tmp_path / "cible.txt"
    target.write_bytes(b"avant")
    target.chmod(0o644)
    return target


def test_a_personal_file_is_never_written_through_a_link(tmp_path):
    """`show --pdf OUT` and `export -o OUT` onto a link planted in a shared folder: the data
    would land in the planter's file, and its mode would change."""
    target = _target(tmp_path)
    link = tmp_path / "demande.pdf"
    link.symlink_to(target)
    with pytest.raises(RefusedFileError):
        write_private(link, b"donnees personnelles")
    assert target.read_bytes() == b"avant"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_a_personal_file_is_written_for_its_owner_alone(tmp_path):
    out = tmp_path / "demande.pdf"
    out.write_bytes(b"ancien contenu plus long")
    out.chmod(0o644)
    write_private(out, b"%PDF-")
    assert out.read_bytes() == b"%PDF-" and stat.S_IMODE(out.stat().st_mode) == 0o600


def test_only_regular_files_are_opened(tmp_path):
    target = _target(tmp_path)
    (tmp_path / "lien").symlink_to(target)
    os.mkfifo(tmp_path / "tube")
    with pytest.raises(RefusedFileError, match="lien symbolique"):
        open_regular(tmp_path / "lien")
    with pytest.raises(RefusedFileError, match="fichier ordinaire"):
        open_regular(tmp_path / "tube")  # opened blocking, this would wait for a writer
    with pytest.raises(RefusedFileError, match="fichier ordinaire"):
        open_regular(tmp_path)
    with open_regular(target) as stream:
        assert stream.read() == b"avant"


@pytest.mark.parametrize("name", ["", ".", "..", "../x.pdf", "/etc/passwd", "a/b.pdf", "a\\b.pdf"])
def test_a_name_from_a_feed_is_a_plain_name(name):
    with pytest.raises(RefusedFileError, match="nom de fichier refusé"):
        plain_name(name)


def test_the_refusal_names_the_file_in_french(tmp_path):
    (tmp_path / "lien.pdf").symlink_to(tmp_path / "nulle-part")
    with pytest.raises(RefusedFileError) as refused:
        write_private(tmp_path / "lien.pdf", b"%PDF-")
    assert str(refused.value) == f"{tmp_path / 'lien.pdf'} : {refused.value.strerror}"
    assert "lien symbolique" in str(refused.value)
    assert not (tmp_path / "nulle-part").exists()  # O_CREAT never went through the link
