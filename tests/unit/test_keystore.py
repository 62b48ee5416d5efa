"""The key store: one key per purge day, outside the database, private, wrapped by the master
key, destroyed for good."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest

from storage import keys_copy
from storage.keystore import MARK, KeyDestroyed, KeyStore, KeyStoreError
from storage.vault import master_key_id

MASTER, OTHER = bytes(range(32)), bytes(32)
JULY_10, SEPT_10 = date(2026, 7, 10), date(2026, 9, 10)


def store(folder: Path, master: bytes = MASTER, today: date | None = None) -> KeyStore:
    return KeyStore(master, master_key_id(master), folder, (lambda: today) if today else None)


def test_one_private_file_per_purge_day_holding_the_key_only_wrapped(tmp_path: Path):
    keys = store(tmp_path / "cles")
    key = keys.for_wrapping(JULY_10)
    assert keys.for_wrapping(JULY_10) == key  # one key per day
    path = tmp_path / "cles" / "2026-07-10.cle"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cles").stat().st_mode) == 0o700
    assert key not in path.read_bytes() and key.hex().encode() not in path.read_bytes()
    assert [p.name for p in (tmp_path / "cles").iterdir()] == ["2026-07-10.cle"]  # no temp
    assert store(tmp_path / "cles").for_opening(JULY_10) == key  # another process reads it
    with pytest.raises(KeyStoreError, match="clé maîtresse"):
        store(tmp_path / "cles", OTHER).for_opening(JULY_10)


def test_a_destroyed_key_is_gone_and_a_survivor_is_never_used(tmp_path: Path):
    folder = tmp_path / "cles"
    keys = store(folder)
    keys.for_wrapping(JULY_10)
    keys.for_wrapping(SEPT_10)
    survivor = (folder / "2026-07-10.cle").read_bytes()

    assert keys.destroy_through(date(2026, 7, 31)) == [JULY_10]
    assert not (folder / "2026-07-10.cle").exists()
    assert (folder / MARK).read_text().strip() == "2026-07-31"
    with pytest.raises(KeyDestroyed):
        keys.for_opening(JULY_10)  # even from this process's memory
    assert keys.for_opening(SEPT_10)

    # Killed between the mark and the deletion: the file survived, it opens nothing, and the
    # next purge deletes it.
    (folder / "2026-07-10.cle").write_bytes(survivor)
    with pytest.raises(KeyDestroyed):
        store(folder).for_opening(JULY_10)
    assert store(folder).destroy_through(date(2026, 7, 1)) == [JULY_10]  # mark never goes back
    assert (folder / MARK).read_text().strip() == "2026-07-31"


def test_a_key_whose_day_has_passed_opens_nothing(tmp_path: Path):
    store(tmp_path / "cles").for_wrapping(JULY_10)
    assert store(tmp_path / "cles", today=JULY_10).for_opening(JULY_10)
    with pytest.raises(KeyDestroyed):
        store(tmp_path / "cles", today=date(2026, 7, 11)).for_opening(JULY_10)


def test_rotation_adds_the_new_envelope_then_drops_the_old(tmp_path: Path):
    folder = tmp_path / "cles"
    old, new = store(folder), store(folder, OTHER)
    key = old.for_wrapping(JULY_10)
    assert old.add_master(new) == 1
    assert old.add_master(new) == 0  # idempotent
    assert new.for_opening(JULY_10) == key and store(folder).for_opening(JULY_10) == key
    new.keep_only_own_master()
    assert store(folder, OTHER).for_opening(JULY_10) == key
    with pytest.raises(KeyStoreError):
        store(folder).for_opening(JULY_10)


def test_an_encrypted_copy_opens_with_its_passphrase_only(tmp_path: Path):
    keys = store(tmp_path / "cles")
    keys.for_wrapping(JULY_10)
    copy = keys_copy.KeysCopy(date(2026, 6, 20), date(2026, 7, 20), dict(keys.files()))
    sealed = keys_copy.seal(copy, "une phrase de passe longue")
    assert (tmp_path / "cles" / "2026-07-10.cle").read_bytes() not in sealed
    with pytest.raises(keys_copy.CopyError):
        keys_copy.open_sealed(sealed, "une autre phrase de passe")
    with pytest.raises(keys_copy.CopyError):
        keys_copy.seal(copy, "courte")
    again = keys_copy.open_sealed(sealed, "une phrase de passe longue")
    assert again == copy

    lost = store(tmp_path / "perdu")  # the key store lost: the copy puts it back
    assert lost.put_back(again.files) == ([JULY_10], [])
    assert lost.for_opening(JULY_10) == keys.for_opening(JULY_10)
    keys.destroy_through(JULY_10)
    assert keys.put_back(again.files) == ([], [JULY_10])  # never what a purge destroyed
