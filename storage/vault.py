"""Envelope encryption: one AES-256-GCM data key per demande, wrapped by the master key.

Destroying a demande's wrapped key makes every copy of its ciphertexts,
backups included, unreadable (crypto-shredding). Each ciphertext is bound
to its numero and kind (associated data), so no blob can be swapped for
another's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
KEY_BYTES = 32


class VaultError(Exception):
    """A key or ciphertext that cannot be used; the message never carries data."""


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


class Vault:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise VaultError("clé maîtresse invalide (32 octets attendus)")
        self._master = AESGCM(master_key)
        # Identifies the master key (for rotation) without revealing anything of it.
        self.key_id = hashlib.sha256(b"intake master key id" + master_key).hexdigest()[:16]
        self._fingerprint_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"intake content fingerprint v1"
        ).derive(master_key)

    @classmethod
    def from_file(cls, path: Path) -> Vault:
        return cls(read_master_key_file(path))

    @staticmethod
    def new_data_key() -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def wrap(self, data_key: bytes, numero: str) -> bytes:
        return self._seal(self._master, data_key, f"key:{numero}")

    def unwrap(self, wrapped: bytes, numero: str) -> bytes:
        return self._open(self._master, wrapped, f"key:{numero}")

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
