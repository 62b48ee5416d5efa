"""The console's passwords are hashed at Argon2id's full cost in the product: the tests hash
with the cheapest parameters (tests/conftest.py), this one checks the real ones."""

from __future__ import annotations

from argon2 import PasswordHasher, Type


def test_the_product_hashes_with_argon2id_at_rfc_9106s_low_memory_cost(
    cheap_password_hashes: PasswordHasher,
) -> None:
    production = cheap_password_hashes
    assert production.type is Type.ID
    assert production.time_cost >= 3 and production.memory_cost >= 64 * 1024
    assert production.parallelism >= 1
    assert production.hash("un mot de passe assez long").startswith("$argon2id$v=19$m=65536,t=3")
