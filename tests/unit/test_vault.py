import stat
from datetime import date

import pytest

from storage.vault import Vault, VaultError, generate_master_key_file, read_master_key_file

DUE = date(2027, 6, 1)


def test_round_trip_under_a_wrapped_data_key(vault: Vault):
    key = vault.new_data_key()
    wrapped = vault.wrap(key, "ME-2026-0000001", DUE)
    sealed = vault.encrypt(key, "ME-2026-0000001", "record", "Nguyễn Thảo 🧸".encode())
    assert b"Nguy" not in sealed
    again = vault.unwrap(wrapped, "ME-2026-0000001", DUE)
    assert vault.decrypt(again, "ME-2026-0000001", "record", sealed).decode() == "Nguyễn Thảo 🧸"


def test_ciphertexts_are_bound_to_their_numero_and_kind(vault: Vault):
    key = vault.new_data_key()
    sealed = vault.encrypt(key, "ME-2026-0000001", "record", b"x")
    with pytest.raises(VaultError):
        vault.decrypt(key, "ME-2026-0000002", "record", sealed)
    with pytest.raises(VaultError):
        vault.decrypt(key, "ME-2026-0000001", "pdf", sealed)
    with pytest.raises(VaultError):
        vault.unwrap(vault.wrap(key, "ME-2026-0000001", DUE), "ME-2026-0000002", DUE)


def test_another_master_key_reads_nothing(vault: Vault):
    wrapped = vault.wrap(vault.new_data_key(), "ME-2026-0000001", DUE)
    with pytest.raises(VaultError):
        Vault(bytes(32)).unwrap(wrapped, "ME-2026-0000001", DUE)


def test_a_data_key_is_bound_to_its_purge_day(vault: Vault):
    wrapped = vault.wrap(vault.new_data_key(), "ME-2026-0000001", DUE)
    vault.keys.for_wrapping(date(2027, 6, 2))
    with pytest.raises(VaultError):
        vault.unwrap(wrapped, "ME-2026-0000001", date(2027, 6, 2))


def test_fingerprints_are_keyed(vault: Vault):
    assert vault.fingerprint(b"a") == vault.fingerprint(b"a")
    assert vault.fingerprint(b"a") != Vault(bytes(32)).fingerprint(b"a")


def test_master_key_file_is_private_and_never_overwritten(tmp_path):
    path = tmp_path / "secrets" / "master.key"
    generate_master_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(read_master_key_file(path)) == 32
    with pytest.raises(FileExistsError):
        generate_master_key_file(path)
    path.write_text("pas une clé")
    with pytest.raises(VaultError):
        read_master_key_file(path)
