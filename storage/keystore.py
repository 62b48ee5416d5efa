"""The key store: one key per purge day, kept outside the database, each wrapped by the master
key. A demande's data key is wrapped by the key of its purge day (`purge_due`).

Destroying a purge day's key makes every copy of the data keys it wrapped unreadable: the
live database, and every backup of it however old (a file copy, `pg_dump`, a snapshot). A
database backup therefore never holds a key that opens destroyed data.

One file per day, `AAAA-MM-JJ.cle` (0600, in a 0700 folder), one line per master key that
wraps it (`<empreinte> <base64>`: a rotation adds the new key's line before the database
changes, and drops the old one once the new key is in place). Files are created whole or not
at all (written under a temporary name with O_EXCL|O_NOFOLLOW, synced, linked into place,
folder synced).

`purgee-jusqu-au` records the latest purge day destroyed: a key of that day or before, or of
a day already past, is never used to open anything, even if its file survived (the process
killed between the database's commit and the files' deletion; the next purge deletes them).

Without a folder (`directory=None`), the keys live in memory: the tests' and benches' vault.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.errors import VaultError

NONCE_BYTES = 12
KEY_BYTES = 32
SUFFIX = ".cle"
MARK = "purgee-jusqu-au"
_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})\.cle")


class KeyStoreError(VaultError):
    """A purge-day key that cannot be used; the message names the day, never a key."""


class KeyDestroyed(KeyStoreError):
    """The purge day's key was destroyed (or its day has passed): what it wrapped is gone."""


def _sync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _temporary_copy(path: Path, content: bytes) -> Path:
    """`content` synced in a new 0600 file beside `path` (never through a link), to be put in
    place by the caller."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
    )
    with os.fdopen(descriptor, "wb") as file:  # write() loops on short writes
        file.write(content)
        file.flush()
        os.fsync(file.fileno())
    return temporary


def write_new(path: Path, content: bytes) -> None:
    """`content` at `path`, created whole (0600, never through a symbolic link), or
    `FileExistsError` if something is already there."""
    temporary = _temporary_copy(path, content)
    try:
        os.link(temporary, path)  # atomic, and refuses to replace
    finally:
        temporary.unlink()
    _sync_dir(path.parent)


def _replace(path: Path, content: bytes) -> None:
    """`content` in place of `path`'s, atomically (0600)."""
    os.replace(_temporary_copy(path, content), path)
    _sync_dir(path.parent)


class KeyStore:
    def __init__(
        self,
        master_key: bytes,
        master_key_id: str,
        directory: Path | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        self._master = AESGCM(master_key)
        self.master_key_id = master_key_id
        self.directory = directory
        self.today = today
        self._keys: dict[date, bytes] = {}
        self._ciphers: dict[date, AESGCM] = {}  # built once per day: a wrap costs no more
        self._memory: dict[date, bytes] = {}  # without a folder: the wrapped keys
        self._memory_mark: date | None = None
        self._mark_seen: tuple[tuple[int, int, int], date] | None = None
        self._mark_path = str(directory / MARK) if directory is not None else ""
        self._directory_path = str(directory) if directory is not None else ""
        self._lock = threading.Lock()
        if directory is not None:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    # --- the files -----------------------------------------------------------------------

    def path(self, day: date) -> Path:
        assert self.directory is not None
        return self.directory / f"{day.isoformat()}{SUFFIX}"

    def days(self) -> list[date]:
        """The purge days whose key is held, oldest first."""
        if self.directory is None:
            return sorted(self._memory)
        found = []
        for entry in os.scandir(self.directory):
            match = _NAME.fullmatch(entry.name)
            if match:
                found.append(date.fromisoformat(match.group(1)))
        return sorted(found)

    def destroyed_through(self) -> date | None:
        """The latest purge day whose key the purges destroyed (read again only when the
        mark's file changed: one `stat` per use)."""
        if self.directory is None:
            return self._memory_mark
        try:
            info = os.stat(self._mark_path)
        except FileNotFoundError:
            self._mark_seen = None
            return None
        seen = (info.st_ino, info.st_mtime_ns, info.st_size)
        if self._mark_seen is not None and self._mark_seen[0] == seen:
            return self._mark_seen[1]
        try:
            text = (self.directory / MARK).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        try:
            mark = date.fromisoformat(text)
        except ValueError:
            raise KeyStoreError(f"repère illisible dans le magasin de clés : {MARK}") from None
        self._mark_seen = (seen, mark)
        return mark

    def _held(self, day: date) -> list[tuple[str, bytes]] | None:
        if self.directory is None:
            wrapped = self._memory.get(day)
            return None if wrapped is None else [(self.master_key_id, wrapped)]
        try:
            text = self.path(day).read_text(encoding="ascii")
        except FileNotFoundError:
            return None
        return self._parse(day, text)

    @staticmethod
    def _parse(day: date, text: str) -> list[tuple[str, bytes]]:
        lines = []
        try:
            for line in text.splitlines():
                key_id, _, blob = line.strip().partition(" ")
                lines.append((key_id, base64.b64decode(blob, validate=True)))
        except binascii.Error:
            raise KeyStoreError(f"clé du {day:%d/%m/%Y} illisible dans le magasin") from None
        return lines

    def _seal(self, cipher: AESGCM, key: bytes, day: date) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + cipher.encrypt(nonce, key, f"purge-key:{day.isoformat()}".encode())

    def _unseal(self, cipher: AESGCM, wrapped: bytes, day: date) -> bytes:
        try:
            context = f"purge-key:{day.isoformat()}".encode()
            return cipher.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], context)
        except InvalidTag:
            raise KeyStoreError(
                f"clé du {day:%d/%m/%Y} : la clé maîtresse ne l'ouvre pas (autre clé, ou "
                "fichier altéré)"
            ) from None

    @staticmethod
    def _render(lines: list[tuple[str, bytes]]) -> bytes:
        return "".join(f"{k} {base64.b64encode(w).decode('ascii')}\n" for k, w in lines).encode()

    # --- using the keys --------------------------------------------------------------------

    def _expired(self, day: date) -> bool:
        mark = self.destroyed_through()
        if mark is not None and day <= mark:
            return True
        return self.today is not None and day < self.today()

    def for_wrapping(self, day: date) -> bytes:
        """The key of this purge day, made if there is none yet. Once known, it is used from
        memory without looking at the file (a `stat` per demande cost a fifth of an ingest):
        only another process's purge could delete it meanwhile, and a day it destroys is one
        whose demandes are all due, the new one too (the next purge takes it)."""
        key = self._keys.get(day)
        if key is not None:
            return key
        with self._lock:
            held = self._held(day)
            if held is None:
                key = AESGCM.generate_key(bit_length=256)
                wrapped = self._seal(self._master, key, day)
                if self.directory is None:
                    self._memory[day] = wrapped
                else:
                    try:
                        write_new(self.path(day), self._render([(self.master_key_id, wrapped)]))
                    except FileExistsError:  # another process made it first: use theirs
                        key = self._open_held(day, self._held(day) or [])
            else:
                key = self._open_held(day, held)
            self._keys[day] = key
            return key

    def for_opening(self, day: date) -> bytes:
        """The key of this purge day, or `KeyDestroyed`."""
        if self._expired(day) or not self._present(day):
            self._forget(day)
            raise KeyDestroyed(
                f"la clé de l'échéance du {day:%d/%m/%Y} a été détruite (ou son échéance est "
                "passée) : les données qu'elle protégeait ne peuvent plus être lues"
            )
        key = self._keys.get(day)
        if key is None:
            held = self._held(day)
            if held is None:
                raise KeyDestroyed(f"la clé de l'échéance du {day:%d/%m/%Y} a été détruite")
            key = self._keys[day] = self._open_held(day, held)
        return key

    def cipher_for_wrapping(self, day: date) -> AESGCM:
        cipher = self._ciphers.get(day)
        if cipher is None:
            cipher = self._ciphers[day] = AESGCM(self.for_wrapping(day))
        return cipher

    def cipher_for_opening(self, day: date) -> AESGCM:
        key = self.for_opening(day)  # every check, every time
        cipher = self._ciphers.get(day)
        if cipher is None:
            cipher = self._ciphers[day] = AESGCM(key)
        return cipher

    def _forget(self, day: date) -> None:
        self._keys.pop(day, None)
        self._ciphers.pop(day, None)

    def _present(self, day: date) -> bool:
        if self.directory is None:
            return day in self._memory
        try:
            os.stat(f"{self._directory_path}/{day.isoformat()}{SUFFIX}")
        except FileNotFoundError:
            return False
        return True

    def _open_held(self, day: date, held: list[tuple[str, bytes]]) -> bytes:
        for key_id, wrapped in held:
            if key_id == self.master_key_id:
                return self._unseal(self._master, wrapped, day)
        raise KeyStoreError(
            f"clé du {day:%d/%m/%Y} : aucune enveloppe par la clé maîtresse en place "
            f"({self.master_key_id})"
        )

    # --- destroying --------------------------------------------------------------------------

    def destroy_through(self, limit: date) -> list[date]:
        """Destroy every key of a purge day on or before `limit` (and any left by an earlier
        purge killed half-way); the mark first, so that a survivor is never used."""
        mark = self.destroyed_through()
        if mark is None or limit > mark:
            mark = limit
            if self.directory is None:
                self._memory_mark = mark
            else:  # date.max at the convention's end: every key, now and to come
                _replace(self.directory / MARK, f"{mark.isoformat()}\n".encode("ascii"))
        gone = [day for day in self.days() if day <= mark]
        for day in gone:
            self._forget(day)
            if self.directory is None:
                del self._memory[day]
            else:
                self.path(day).unlink(missing_ok=True)
        if gone and self.directory is not None:
            _sync_dir(self.directory)
        return gone

    # --- rotation and backups ---------------------------------------------------------------

    def add_master(self, other: KeyStore) -> int:
        """Add `other`'s master key's envelope to every key (a rotation's first step)."""
        count = 0
        for day in self.days():
            held = self._held(day) or []
            if any(k == other.master_key_id for k, _ in held):
                continue
            key = self._open_held(day, held)
            wrapped = other._seal(other._master, key, day)
            self._write(day, [*held, (other.master_key_id, wrapped)])
            count += 1
        return count

    def keep_only_own_master(self) -> None:
        """Drop every other master key's envelope (a rotation's last step)."""
        for day in self.days():
            held = self._held(day) or []
            kept = [(k, w) for k, w in held if k == self.master_key_id]
            if kept and len(kept) != len(held):
                self._write(day, kept)

    def _write(self, day: date, lines: list[tuple[str, bytes]]) -> None:
        if self.directory is None:
            self._memory[day] = next(w for k, w in lines if k == self.master_key_id)
        else:
            _replace(self.path(day), self._render(lines))

    def files(self) -> Iterator[tuple[str, bytes]]:
        """Each file of the store as it is (for an encrypted copy): its name, its bytes."""
        if self.directory is None:
            return
        mark = self.directory / MARK
        if mark.exists():
            yield MARK, mark.read_bytes()
        for day in self.days():
            path = self.path(day)
            try:
                yield path.name, path.read_bytes()
            except FileNotFoundError:
                continue

    def put_back(self, files: dict[str, bytes]) -> tuple[list[date], list[date]]:
        """Keys from a copy put back in the store: only those it lacks and whose day is
        neither past nor destroyed (a copy never brings back what a purge destroyed). The
        copy's mark is kept if it is later. Returns the days put back and the days refused."""
        if self.directory is None:
            raise KeyStoreError("magasin de clés en mémoire : rien à remettre")
        copied_mark = files.get(MARK, b"").decode("ascii", "replace").strip()
        if copied_mark:
            theirs = date.fromisoformat(copied_mark)
            ours = self.destroyed_through()
            if ours is None or theirs > ours:
                _replace(self.directory / MARK, f"{theirs.isoformat()}\n".encode("ascii"))
        restored, refused = [], []
        for name, content in sorted(files.items()):
            match = _NAME.fullmatch(name)
            if match is None:
                continue
            day = date.fromisoformat(match.group(1))
            if self._present(day):
                continue
            if self._expired(day):
                refused.append(day)
                continue
            self._open_held(day, self._parse(day, content.decode("ascii", "replace")))
            write_new(self.path(day), content)
            restored.append(day)
        return restored, refused
