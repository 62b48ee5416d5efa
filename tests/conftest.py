from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from argon2 import PasswordHasher
from sqlalchemy import Engine, text

from intake.clock import FixedClock
from intake.feed import FeedSchema
from intake.pipeline import Ingestor
from storage.db import make_engine, upgrade
from storage.vault import Vault
from tests.support.feeds import SAMPLES
from tests.support.lieu import NOW, make_ingestor
from tests.support.required import missing

PG_ENV = "INTAKE_TEST_DATABASE_URL"
FAULTS = Path(__file__).with_name("faults")


@pytest.hookimpl(tryfirst=True)  # before `-m` selects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tiers a developer may leave out (`-m "not faults and not fuzz"`), CI never:
    every test of tests/faults is `faults`, every hypothesis test is `fuzz`."""
    for item in items:
        if FAULTS in item.path.parents:
            item.add_marker(pytest.mark.faults)
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.fuzz)


# Argon2 as the product sets it costs some 0.2 s of CPU and 64 MiB a hash: the console's tests,
# which set three passwords and sign in again and again, spent most of their time hashing. They
# test who is hashed and when, not the cost; the cheapest Argon2id stands in for it in this
# process. tests/unit/test_password_cost.py checks the product's own parameters, and the
# commands run as processes (`process=True`, `script=True`) hash at the product's cost.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    """The product's hasher, for the test that checks it."""
    from intake.desk import accounts

    production = accounts._HASHER
    monkeypatch.setattr(accounts, "_HASHER", CHEAP_HASHER)
    return production


@pytest.fixture
def now() -> Iterator[datetime]:
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    folder = tmp_path / "samples"
    shutil.copytree(SAMPLES, folder)
    return folder


@pytest.fixture(scope="session")
def schema() -> FeedSchema:
    return FeedSchema()


@pytest.fixture
def vault() -> Vault:
    return Vault(bytes(range(32)))


def _postgres_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI"):
        missing(PG_ENV, "the PostgreSQL tier must run")
    return url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database brought to the newest migration, once per run: each test gets a copy
    (a second of Alembic per test otherwise). tests/integration/test_migrations.py still runs
    every migration from an empty database."""
    path = tmp_path_factory.mktemp("migrated") / "intake.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path
) -> Iterator[Engine]:
    if request.param == "sqlite":
        database = tmp_path / "intake.db"
        shutil.copyfile(migrated_sqlite, database)
        engine = make_engine(f"sqlite:///{database}")
        upgrade(engine)  # finds the schema current: nothing to do
        yield engine
        engine.dispose()
        return
    url = _postgres_url()
    if not url:
        pytest.skip(
            f"PostgreSQL tier skipped: set {PG_ENV} (e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    schema_name = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema_name}"})
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))
    admin.dispose()


@pytest.fixture
def clock() -> FixedClock:
    """The test's one clock, at NOW: the ingestor's and the sandbox extranet's, so that what
    the sandbox makes "an hour ago" is an hour before what the ingestor calls now."""
    return FixedClock(NOW)


@pytest.fixture
def ingestor(engine: Engine, vault: Vault, schema: FeedSchema, clock: FixedClock) -> Ingestor:
    return make_ingestor(engine, vault, schema, clock)


@pytest.fixture
def lieu_config(tmp_path: Path):
    """The template configuration (Corbas, one habilitated person with every duty), plus a
    recipient for Bron only and a second admin, loaded as the worker loads it."""
    from importlib import resources

    from intake import config as configuration
    from storage.vault import generate_master_key_file

    folder = tmp_path / "lieu"
    generate_master_key_file(folder / "secrets" / "master.key")
    text = resources.files("intake").joinpath("templates/intake.toml").read_text("utf-8")
    text += (
        '\n[[communes]]\ninsee = "69029"\nname = "Bron"\n'
        '\n[[staff]]\nname = "Agent Bron"\nemail = "accueil@ville-bron.fr"\n'
        'duties = ["recipient"]\ncommunes = ["69029"]\n'
        '\n[[staff]]\nname = "DSI"\nemail = "dsi@ville-corbas.fr"\nduties = ["admin"]\n'
    )
    (folder / "intake.toml").write_text(text, encoding="utf-8")
    return configuration.load(folder / "intake.toml", {})
