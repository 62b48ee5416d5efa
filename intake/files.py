"""Files people drop or name: read as regular files only, never through a link, never out of
their folder; personal files written never through a link either.

A drop folder (or a folder given to `intake ingest`) is written by other accounts: a symbolic
link named like a PDF may point at the master key, a FIFO would block a reader forever, a name
taken from a feed may climb out of the folder. So every file input is opened with
`O_NOFOLLOW | O_NONBLOCK` and checked with `fstat` on the open descriptor (no race between a
check and the open); a name a feed gives is a plain name in the folder, never a path; and a
file is deleted by its name, never through what a link points to. A file of personal data
written out (`show --pdf`, `export -o`) is opened the same way, so that a link planted where it
is written neither receives the data nor has its mode changed.

A hard link is a regular file: it is read like any other (its bytes must still be the declared
PDF, or nothing of them is kept), and deleting it removes only its name in the folder.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from intake.errors import IntakeError

_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC

LINK = "lien symbolique refusé : seul un fichier ordinaire est lu"
NOT_REGULAR = "ce n'est pas un fichier ordinaire (tube, périphérique ou dossier) : il n'est pas lu"
LINK_OUT = "lien symbolique refusé : le fichier à écrire doit être un fichier ordinaire"
NOT_OURS = "ce fichier appartient à un autre compte : choisissez un autre nom"
NOT_PLAIN = "nom de fichier refusé : un nom simple est attendu, sans chemin ni « .. »"


class RefusedFileError(IntakeError, OSError):
    """A file refused for what it is, not for what it holds: an OSError whose `strerror` is
    French (callers reading files report it so), and a refusal the person can act on."""

    def __init__(self, reason: str, filename: str | None = None) -> None:
        OSError.__init__(self, errno.EPERM, reason)
        self.filename = filename

    def __str__(self) -> str:
        return f"{self.filename} : {self.strerror}" if self.filename else str(self.strerror)


def open_regular(path: Path | str) -> BinaryIO:
    """`path` opened for reading if it is a regular file itself (not a link to one)."""

    def opener(name: str, _: int) -> int:
        try:
            descriptor = os.open(name, _FLAGS)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link
                raise RefusedFileError(LINK) from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise RefusedFileError(NOT_REGULAR)
            os.set_blocking(descriptor, True)
        except BaseException:
            os.close(descriptor)
            raise
        return descriptor

    return open(path, "rb", opener=opener)  # the caller closes it


def read_regular(path: Path | str, limit: int) -> bytes:
    """At most `limit` bytes of the regular file `path`."""
    with open_regular(path) as stream:
        return stream.read(limit)


def plain_name(name: str) -> str:
    """`name` if it names a file directly in its folder: no separator, not `.` or `..`."""
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\0" in name
        or os.path.basename(name) != name
    ):
        raise RefusedFileError(NOT_PLAIN)
    return name


def within(folder: Path, name: str) -> Path:
    """The file `name` of `folder`, refused if the name would lead anywhere else."""
    return folder / plain_name(name)


def remove(path: Path) -> bool:
    """Delete the name `path` itself (a link goes, never what it points to); whether it was
    there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def is_listed(entry: os.DirEntry[str]) -> bool:
    """Whether a folder's entry is one of its files: anything but a (real) folder and a hidden
    name. Links, tubes and devices are listed, for the caller to refuse and remove."""
    return not entry.name.startswith(".") and not entry.is_dir(follow_symlinks=False)


def write_private(path: Path | str, content: bytes) -> None:
    """Personal data out of the vault into a file its owner alone can read (0600), never
    through a link: a link planted where the file is written would hand the data, and the
    mode change, to its target. Only a regular file of this account's is written."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RefusedFileError(LINK_OUT, str(path)) from None
        if exc.errno == errno.ENXIO:  # a FIFO with no reader
            raise RefusedFileError(NOT_REGULAR, str(path)) from None
        raise
    with open(descriptor, "wb", closefd=True) as stream:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise RefusedFileError(NOT_REGULAR, str(path))
        if info.st_uid != os.geteuid():
            raise RefusedFileError(NOT_OURS, str(path))
        os.fchmod(descriptor, 0o600)
        os.set_blocking(descriptor, True)
        stream.truncate(0)
        stream.write(content)
