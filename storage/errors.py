"""The base of storage's refusals (a wrong master key, a database already in use): their
message is French and for the person, like `intake.errors.IntakeError`'s."""

from __future__ import annotations


class StorageError(Exception):
    """A refusal of the storage layer whose message is for the person."""


class VaultError(StorageError):
    """A key or ciphertext that cannot be used; the message never carries data."""
