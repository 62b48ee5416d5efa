"""The jobs' advisory locks on PostgreSQL: one worker per job within a schema, and schemas of
one database (two lieus, or two test runs side by side) never wait for each other."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from storage.db import MIGRATION_LOCK, _migration_lock, make_engine, upgrade
from storage.locks import job_lock, lock_key
from tests.conftest import _postgres_url

pytestmark = pytest.mark.postgres


@pytest.fixture
def schemas() -> Iterator[tuple[Engine, Engine, Engine]]:
    """Two engines on one schema (two workers of a lieu) and one on another (another lieu)."""
    url = _postgres_url()
    if not url:
        pytest.skip("PostgreSQL tier skipped: set INTAKE_TEST_DATABASE_URL")
    names = [f"l_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    admin = make_engine(url)
    with admin.begin() as connection:
        for name in names:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    engines = [
        make_engine(url, connect_args={"options": f"-csearch_path={name}"})
        for name in (names[0], names[0], names[1])
    ]
    yield engines[0], engines[1], engines[2]
    for engine in engines:
        engine.dispose()
    with admin.begin() as connection:
        for name in names:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


def test_a_job_is_held_by_one_worker_of_a_schema_and_by_each_schema(schemas):
    worker, colleague, other_lieu = schemas
    with job_lock(worker, "purge") as mine:
        assert mine
        with job_lock(colleague, "purge") as theirs:
            assert not theirs  # the same lieu's job: the other worker skips it
        with job_lock(other_lieu, "purge") as elsewhere:
            assert elsewhere  # another schema's purge is another job
        with job_lock(colleague, "rapport") as another_job:
            assert another_job
    with job_lock(colleague, "purge") as after:
        assert after  # released with the block


def test_the_schema_public_keeps_its_keys():
    """Workers of an older version, which keyed by job only, still exclude the newer ones."""
    legacy = int.from_bytes(hashlib.sha256(b"intake:purge").digest()[:8], "big", signed=True)
    assert lock_key("purge", "public") == lock_key("purge") == lock_key("purge", None) == legacy
    assert lock_key("purge", "lieu_a") not in {lock_key("purge"), lock_key("purge", "lieu_b")}
    assert lock_key("commune:69273", "a") != lock_key("commune", "69273:a")


def test_migrations_of_two_schemas_do_not_wait_for_each_other(schemas):
    worker, colleague, other_lieu = schemas
    with worker.connect() as connection:
        assert _migration_lock(connection) != MIGRATION_LOCK
        with colleague.connect() as same:
            assert _migration_lock(same) == _migration_lock(connection)
        with other_lieu.connect() as other:
            assert _migration_lock(other) != _migration_lock(connection)
    # A migration under way in the first schema holds its lock; the other schema's upgrade goes
    # through meanwhile (before the change, it waited for the first transaction to end).
    with worker.begin() as holding:
        holding.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _migration_lock(holding)})
        done = threading.Event()
        thread = threading.Thread(target=lambda: (upgrade(other_lieu), done.set()))
        thread.start()
        thread.join(timeout=60)
        assert done.is_set()
