"""`Accounts.authenticate`, the terminal's sign-in (issue 25, item 4), on SQLite and
PostgreSQL: the console's rules without its session. Parallel guesses are counted one by one,
every refusal costs one password hash, a code opens one command only, the code is asked for
with no lock held, and nothing of a web session is left behind."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import Engine
from sqlmodel import select

import intake.desk.accounts as accounts_module
from intake import config as configuration
from intake.clock import FixedClock
from intake.desk.accounts import Accounts, IdentityRefused
from storage.db import transaction
from storage.models import AuditEvent, WebSession
from storage.vault import Vault
from tests.support.console import AGENT, PASSWORD, console_config

WRONG = "pas le bon mot de passe"
SOURCE = "terminal:agent"


@pytest.fixture
def accounts(tmp_path: Path, engine: Engine, vault: Vault, clock: FixedClock) -> Accounts:
    config = configuration.load(console_config(tmp_path), {})
    service = Accounts(config, engine, vault, clock)
    service.set_password(AGENT, PASSWORD)
    return service


def no_code() -> str:
    raise AssertionError("no code is asked of an account without one")


def authenticate(
    accounts: Accounts, email: str, password: str, ask_code: Callable[[], str] = no_code
) -> bool:
    try:
        accounts.authenticate(email, password, ask_code, source=SOURCE, action="lecture")
    except IdentityRefused:
        return False
    return True


def events(engine: Engine, action: str) -> list[AuditEvent]:
    with transaction(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_right_password_opens_no_session(accounts: Accounts, engine: Engine):
    assert authenticate(accounts, AGENT, PASSWORD)
    with transaction(engine) as session:
        assert list(session.exec(select(WebSession))) == []
    assert events(engine, "acces-refuse") == []


def test_parallel_wrong_passwords_are_counted_one_by_one(
    accounts: Accounts, engine: Engine, monkeypatch
):
    dummy = accounts_module.dummy_hash()
    checked: list[str] = []
    real_verify = accounts_module._verify
    monkeypatch.setattr(
        accounts_module, "_verify", lambda h, p: checked.append(h) or real_verify(h, p)
    )
    with ThreadPoolExecutor(max_workers=12) as pool:
        assert not any(pool.map(lambda i: authenticate(accounts, AGENT, f"{WRONG} {i}"), range(12)))
    assert len(events(engine, "compte-verrouille")) == 1
    assert len([h for h in checked if h != dummy]) == 5  # the others never reached the hash
    assert len(checked) == 12  # but each took as long
    assert len(events(engine, "acces-refuse")) == 12
    assert not authenticate(accounts, AGENT, PASSWORD)  # the right one, while slowed


def test_the_code_is_asked_with_no_lock_held_and_opens_one_command(
    accounts: Accounts, engine: Engine, clock: FixedClock
):
    totp = pyotp.parse_uri(accounts.enable_totp(AGENT))

    def typed_while_the_service_writes() -> str:
        with transaction(engine) as session:  # refused if the sign-in still held SQLite's lock
            accounts.vault.trail.record(session, at=clock.now(), actor="système", action="test")
        return totp.at(clock.now())

    assert authenticate(accounts, AGENT, PASSWORD, typed_while_the_service_writes)
    assert not authenticate(accounts, AGENT, PASSWORD, lambda: totp.at(clock.now()))  # replayed
    assert not authenticate(accounts, AGENT, WRONG, lambda: totp.at(clock.now()))
    clock.instant += timedelta(seconds=30)
    assert authenticate(accounts, AGENT, PASSWORD, lambda: totp.at(clock.now()))
    motifs = [json.loads(e.detail or "{}") for e in events(engine, "connexion-refusee")]
    assert motifs == [{"motif": "code"}, {"motif": "identifiants"}]


def test_every_refusal_costs_one_password_hash(accounts: Accounts, monkeypatch):
    for _ in range(5):
        authenticate(accounts, AGENT, WRONG)
    verified: list[str] = []
    real_verify = accounts_module._verify
    monkeypatch.setattr(
        accounts_module, "_verify", lambda h, p: verified.append(h) or real_verify(h, p)
    )
    for email, password in (("intrus@ailleurs.fr", PASSWORD), (AGENT, PASSWORD), (AGENT, WRONG)):
        assert not authenticate(accounts, email, password)
    assert len(verified) == 3  # unknown, slowed, wrong: the same time taken
