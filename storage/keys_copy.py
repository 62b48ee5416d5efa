"""An encrypted copy of the key store, for the IT person's backups (short retention).

Sealed with a passphrase: scrypt (n=2^17, r=8, p=1) derives an AES-256-GCM key; the header
(format, salt, the dates) is authenticated with the content. The copy holds the purge-day keys
as the store holds them, still wrapped by the master key: it opens nothing without the master
key, and the master key opens no destroyed demande without it.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from storage.errors import VaultError

MAGIC = b"INTAKE-CLES-1\n"
SALT_BYTES, NONCE_BYTES = 16, 12
SCRYPT_N = 2**17
MIN_PASSPHRASE = 12


class CopyError(VaultError):
    pass


@dataclass(frozen=True)
class KeysCopy:
    made_on: date
    keep_until: date
    files: dict[str, bytes]


def _key(passphrase: str, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=8, p=1).derive(passphrase.encode("utf-8"))


def seal(copy: KeysCopy, passphrase: str) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE:
        raise CopyError(f"phrase de passe trop courte ({MIN_PASSPHRASE} caractères au moins)")
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    header = MAGIC + salt + nonce
    body = json.dumps(
        {
            "faite_le": copy.made_on.isoformat(),
            "a_detruire_le": copy.keep_until.isoformat(),
            "fichiers": {n: base64.b64encode(c).decode("ascii") for n, c in copy.files.items()},
        }
    ).encode("utf-8")
    return header + AESGCM(_key(passphrase, salt)).encrypt(nonce, body, header)


def open_sealed(sealed: bytes, passphrase: str) -> KeysCopy:
    if not sealed.startswith(MAGIC):
        raise CopyError("ce fichier n'est pas une copie du magasin de clés d'intake")
    start = len(MAGIC)
    salt = sealed[start : start + SALT_BYTES]
    nonce = sealed[start + SALT_BYTES : start + SALT_BYTES + NONCE_BYTES]
    header = sealed[: start + SALT_BYTES + NONCE_BYTES]
    try:
        body = AESGCM(_key(passphrase, salt)).decrypt(nonce, sealed[len(header) :], header)
    except InvalidTag:
        raise CopyError("phrase de passe incorrecte, ou copie altérée") from None
    data = json.loads(body)
    return KeysCopy(
        made_on=date.fromisoformat(data["faite_le"]),
        keep_until=date.fromisoformat(data["a_detruire_le"]),
        files={n: base64.b64decode(c) for n, c in data["fichiers"].items()},
    )
