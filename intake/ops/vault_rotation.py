"""Changing the master key: every purge-day key of the key store given the new key's envelope,
the database's own keys re-wrapped in one transaction, then the new key file put in place of
the old one, and the old key's envelopes dropped from the key store.

Killed during the transaction, nothing changed and the old key still opens everything.
Killed after the commit and before the files were swapped, the database already expects the
new key: running the same command again finds it so and only swaps the files.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from intake.app import App
from intake.desk.access import authorize
from storage import anchors, audit, keyring
from storage.db import transaction
from storage.vault import master_key_id, read_master_key_file


@dataclass(frozen=True)
class RotationDone:
    rotation: keyring.Rotation
    previous_key: Path


def rotate_master_key(app: App, new_key_file: Path, agent: str | None) -> RotationDone:
    config, now = app.config, app.clock.now()
    actor = authorize(config, agent, now).email if agent else f"système:{getpass.getuser()}"
    new_key = read_master_key_file(new_key_file)
    old_key = read_master_key_file(config.key_file)
    new_id = master_key_id(new_key)
    expected = keyring.key_id(app.engine)
    if expected == new_id and master_key_id(old_key) != new_id:
        rotation = keyring.Rotation(master_key_id(old_key), new_id, 0)  # committed, files not
    else:
        rotation = keyring.rotate(app.engine, app.vault, new_key, now, actor)
    previous = _install(config.key_file, old_key, new_key_file.read_bytes(), now.date().isoformat())
    keyring.finish_rotation(config.keys_dir, new_key, old_key)
    with transaction(app.engine) as session:
        head = audit.head(session)
    anchors.append(anchors.anchors_file(config.key_file), head, "rotation-cle", now)
    return RotationDone(rotation, previous)


def _install(key_file: Path, old_key: bytes, new_content: bytes, day: str) -> Path:
    """Keep the old key beside the new one (it alone opens older backups), then replace the
    key file atomically."""
    import base64

    previous = key_file.with_name(f"{key_file.name}.avant-{day}")
    number = 1
    while previous.exists():
        number += 1
        previous = key_file.with_name(f"{key_file.name}.avant-{day}-{number}")
    _write_new(previous, (base64.b64encode(old_key).decode("ascii") + "\n").encode("ascii"))
    temporary = key_file.with_name(f".{key_file.name}.nouvelle")
    temporary.unlink(missing_ok=True)
    _write_new(temporary, new_content)
    os.replace(temporary, key_file)
    directory = os.open(key_file.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return previous


def _write_new(path: Path, content: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(descriptor, content)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
