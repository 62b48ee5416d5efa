"""Envelope encryption: one AES-256-GCM data key per demande, wrapped by the key of its
purge day (storage/keystore.py, outside the database), itself wrapped by the master key.

Destroying a purge day's key makes every copy of the data keys it wrapped, database backups
included, unreadable (crypto-shredding that reaches backups). Each ciphertext is bound to its
numero and kind, each wrapped data key to its numero and purge day (associated data), so no
blob can be swapped for another's.

Data keys wrapped directly by the master key (`key_date` NULL: databases made before the key
store) are still opened, and re-wrapped by their purge day's key at unlock (keyring.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.audit import Trail
from storage.errors import VaultError
from storage.keystore import KeyStore

NONCE_BYTES = 12
KEY_BYTES = 32


__all__ = ["DerivedKeys", "Vault", "VaultError"]


def generate_master_key_file(path: Path) -> None:
    """Write a new master key readable by its owner only; refuses to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as stream:
        stream.write(base64.b64encode(AESGCM.generate_key(bit_length=256)).decode("ascii") + "\n")


def read_master_key_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
        key = base64.b64decode(text, validate=True)
    except (OSError, UnicodeDecodeError, binascii.Error) as exc:
        raise VaultError(f"clé maîtresse illisible : {path}") from exc
    if len(key) != KEY_BYTES:
        raise VaultError(f"clé maîtresse invalide (32 octets attendus) : {path}")
    return key


def master_key_id(master_key: bytes) -> str:
    """The master key's identity: a keyed fingerprint that names it without revealing it."""
    return hashlib.sha256(b"intake master key id" + master_key).hexdigest()[:16]


def _derive(master_key: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=label).derive(
        master_key
    )


@dataclass(frozen=True)
class DerivedKeys:
    """Keys derived once from the master key, each under its own label. The keyring keeps them
    wrapped in the database so that a rotated master key keeps the same fingerprints and the
    same audit chain."""

    fingerprint: bytes
    audit: bytes

    @classmethod
    def from_master(cls, master_key: bytes) -> DerivedKeys:
        return cls(
            fingerprint=_derive(master_key, b"intake content fingerprint v1"),
            audit=_derive(master_key, b"intake audit chain v1"),
        )


class Vault:
    def __init__(
        self,
        master_key: bytes,
        derived: DerivedKeys | None = None,
        keys: KeyStore | None = None,
    ) -> None:
        if len(master_key) != KEY_BYTES:
            raise VaultError("clé maîtresse invalide (32 octets attendus)")
        self._master = AESGCM(master_key)
        self.key_id = master_key_id(master_key)
        self.keys = keys or KeyStore(master_key, self.key_id)
        self.derived = derived or DerivedKeys.from_master(master_key)
        self._fingerprint_key = self.derived.fingerprint
        self.trail = Trail(self.derived.audit)

    @classmethod
    def from_file(cls, path: Path) -> Vault:
        return cls(read_master_key_file(path))

    def wrap_secret(self, secret: bytes, name: str) -> bytes:
        """A key of the keyring's own (not a demande's), sealed under the master key."""
        return self._seal(self._master, secret, f"keyring:{name}")

    def unwrap_secret(self, wrapped: bytes, name: str) -> bytes:
        return self._open(self._master, wrapped, f"keyring:{name}")

    @staticmethod
    def new_data_key() -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def wrap(self, data_key: bytes, numero: str, key_date: date) -> bytes:
        """`data_key` wrapped by the key of the purge day `key_date`."""
        purge_key = self.keys.cipher_for_wrapping(key_date)
        return self._seal(purge_key, data_key, f"key:{numero}:{key_date.isoformat()}")

    def unwrap(self, wrapped: bytes, numero: str, key_date: date | None) -> bytes:
        """The data key, if its purge day's key still exists (`KeyDestroyed` otherwise);
        `key_date` None: wrapped by the master key (a database made before the key store)."""
        if key_date is None:
            return self._open(self._master, wrapped, f"key:{numero}")
        purge_key = self.keys.cipher_for_opening(key_date)
        return self._open(purge_key, wrapped, f"key:{numero}:{key_date.isoformat()}")

    def wrap_legacy(self, data_key: bytes, numero: str) -> bytes:
        """Wrapped by the master key itself: only for a demande with no purge day."""
        return self._seal(self._master, data_key, f"key:{numero}")

    def encrypt(self, data_key: bytes, numero: str, kind: str, plaintext: bytes) -> bytes:
        return self._seal(AESGCM(data_key), plaintext, f"{kind}:{numero}")

    def decrypt(self, data_key: bytes, numero: str, kind: str, ciphertext: bytes) -> bytes:
        return self._open(AESGCM(data_key), ciphertext, f"{kind}:{numero}")

    def fingerprint(self, content: bytes) -> str:
        """Keyed digest of a demande's content: compares two copies without revealing either."""
        return hmac.new(self._fingerprint_key, content, hashlib.sha256).hexdigest()

    @staticmethod
    def _seal(cipher: AESGCM, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + cipher.encrypt(nonce, plaintext, context.encode())

    @staticmethod
    def _open(cipher: AESGCM, sealed: bytes, context: str) -> bytes:
        try:
            return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise VaultError(
                f"déchiffrement impossible ({context.split(':')[0]}) : "
                "mauvaise clé ou donnée altérée"
            ) from None
