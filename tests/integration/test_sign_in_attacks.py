"""The console's sign-in under attack (issue 21, items 3, 4, 5 and 9): the second factor obeys
the lock, a TOTP code opens one sign-in only, parallel guesses are counted one by one, and no
answer tells an unknown address from a wrong password or a slowed account, while the
administrators are emailed once per attack."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

import intake.desk.accounts as accounts_module
from intake import config as configuration
from intake.app import App
from intake.clock import FixedClock
from intake.desk.accounts import Accounts, SignInRefused
from intake.web.app import create_app
from storage.db import transaction
from storage.models import AuditEvent, OutboxMessage
from storage.vault import Vault
from tests.support.console import AGENT, BRON, CSRF, DSI, PASSWORD, console_config

WRONG = "pas le bon mot de passe"
HERE = "192.0.2.10"
ELSEWHERE = "198.51.100.20"


def service(app: App, clock: FixedClock) -> Accounts:
    return Accounts(app.config, app.engine, app.vault, clock)


def client(app: App) -> TestClient:
    return TestClient(create_app(app), base_url="http://127.0.0.1")


def post_sign_in(web: TestClient, email: str, password: str = PASSWORD):
    token = CSRF.search(web.get("/connexion").text).group(1)
    return web.post(
        "/connexion",
        data={"email": email, "mot_de_passe": password, "csrf": token},
        follow_redirects=False,
    )


def post_sign_in_agent(web: TestClient):
    return post_sign_in(web, AGENT)


def post_code(web: TestClient, code: str):
    page = web.get("/connexion/code", follow_redirects=False)
    if page.status_code != 200:
        return page  # no waiting session any more: sent back to /connexion
    token = CSRF.search(page.text).group(1)
    return web.post("/connexion/code", data={"code": code, "csrf": token}, follow_redirects=False)


def events(engine: Engine, action: str) -> list[AuditEvent]:
    with transaction(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def alerts(engine: Engine) -> list[OutboxMessage]:
    with transaction(engine) as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == "technique")
        return [m for m in session.exec(query) if m.dedupe_key.startswith("connexion")]


def with_totp(app: App, clock: FixedClock) -> pyotp.TOTP:
    return pyotp.parse_uri(service(app, clock).enable_totp(AGENT))


def refused(accounts: Accounts, email: str, password: str, source: str = HERE) -> str:
    with pytest.raises(SignInRefused) as caught:
        accounts.sign_in(email, password, source=source)
    return str(caught.value)


# --- 3. the second factor obeys the lock --------------------------------------------------------


def test_the_right_code_does_not_sign_in_a_locked_account(lieu: App, clock: FixedClock):
    totp = with_totp(lieu, clock)
    waiting = client(lieu)
    assert post_sign_in(waiting, AGENT).headers["location"] == "/connexion/code"
    attacker = client(lieu)
    for _ in range(5):
        assert post_sign_in(attacker, AGENT, WRONG).status_code == 401
    response = post_code(waiting, totp.at(clock.now()))
    assert response.status_code in (401, 303)
    assert response.headers.get("location") != "/"
    assert waiting.get("/", follow_redirects=False).headers["location"] == "/connexion"
    # The waiting session ended with the lock: no code is looked at any more.
    assert waiting.get("/connexion/code", follow_redirects=False).status_code == 303


def test_wrong_codes_are_failures_and_the_lock_ends_the_waiting_session(
    lieu: App, clock: FixedClock
):
    totp = with_totp(lieu, clock)
    web = client(lieu)
    post_sign_in_agent(web)
    for _ in range(3):
        assert post_code(web, "000000").status_code == 401
    assert post_sign_in_agent(web).headers["location"] == "/connexion/code"
    for _ in range(2):
        assert post_code(web, "000000").status_code == 401
    assert len(events(lieu.engine, "compte-verrouille")) == 1  # each wrong code counted
    gone = post_code(web, totp.at(clock.now()))
    assert gone.headers["location"] == "/connexion"  # no waiting session any more
    assert web.get("/", follow_redirects=False).headers["location"] == "/connexion"
    assert post_sign_in_agent(web).status_code == 401  # and the account is slowed


def test_a_waiting_session_has_a_handful_of_guesses(lieu: App, clock: FixedClock):
    totp = with_totp(lieu, clock)
    web = client(lieu)
    post_sign_in_agent(web)
    for _ in range(3):
        assert post_code(web, "000000").status_code == 401
    assert events(lieu.engine, "compte-verrouille") == []  # below the account's own limit
    gone = post_code(web, totp.at(clock.now()))
    assert gone.headers["location"] == "/connexion"  # the session is gone
    assert web.get("/", follow_redirects=False).headers["location"] == "/connexion"


# --- 4. TOTP replay ------------------------------------------------------------------------------


def test_one_code_opens_one_sign_in(lieu: App, clock: FixedClock):
    totp = with_totp(lieu, clock)
    ahead = totp.at(clock.now() + timedelta(seconds=30))  # the next step: within the window
    first, second = client(lieu), client(lieu)
    post_sign_in_agent(first)
    post_sign_in_agent(second)
    assert post_code(first, ahead).headers["location"] == "/"
    assert post_code(second, ahead).status_code == 401  # replayed
    assert post_code(second, totp.at(clock.now())).status_code == 401  # older, though valid
    clock.instant += timedelta(seconds=60)
    assert post_code(second, totp.at(clock.now())).headers["location"] == "/"


# --- 5. the lockout race --------------------------------------------------------------------------


def test_thirty_parallel_wrong_passwords_lock_once(
    tmp_path: Path, clock: FixedClock, engine: Engine, vault: Vault, monkeypatch
):
    config = configuration.load(console_config(tmp_path), {})
    accounts = Accounts(config, engine, vault, clock)
    accounts.set_password(AGENT, PASSWORD)
    dummy = accounts_module.dummy_hash()  # made as the console starts, before any request
    checked: list[str] = []
    real_verify = accounts_module._verify

    def counting(hashed: str, password: str) -> bool:
        checked.append(hashed)
        return real_verify(hashed, password)

    monkeypatch.setattr(accounts_module, "_verify", counting)

    def attempt(i: int) -> bool:
        try:
            accounts.sign_in(AGENT, f"{WRONG} {i}", source=f"203.0.113.{i}")
        except SignInRefused:
            return False
        return True

    with ThreadPoolExecutor(max_workers=30) as pool:
        assert not any(pool.map(attempt, range(30)))
    assert len(events(engine, "compte-verrouille")) == 1
    assert len([h for h in checked if h != dummy]) == 5  # the others never reached the hash
    assert len(checked) == 30  # but each took as long
    refused(accounts, AGENT, PASSWORD, source=ELSEWHERE)  # the right password, while locked
    assert len(alerts(engine)) == 1


def test_the_lock_never_resets_the_count(lieu: App, clock: FixedClock):
    accounts = service(lieu, clock)
    for _ in range(5):
        refused(accounts, AGENT, WRONG)
    clock.instant += timedelta(minutes=16)  # past any first delay
    refused(accounts, AGENT, WRONG)  # the sixth failure locks again at once
    assert len(events(lieu.engine, "compte-verrouille")) == 2
    clock.instant += timedelta(seconds=90)
    refused(accounts, AGENT, PASSWORD)  # the second delay is longer than the first


# --- 9. enumeration and denial --------------------------------------------------------------------


def test_unknown_wrong_and_locked_answer_the_same(lieu: App):
    web = client(lieu)
    unknown = post_sign_in(web, "intrus@ailleurs.fr")
    wrong = post_sign_in(web, AGENT, WRONG)
    for _ in range(5):
        post_sign_in(web, AGENT, WRONG)
    locked = post_sign_in(web, AGENT)  # the right password, while slowed
    # Each page keeps the address typed in its field (the asker's own input, telling nothing).
    answers = ((unknown, "intrus@ailleurs.fr"), (wrong, AGENT), (locked, AGENT))
    texts = {
        r.text.replace(CSRF.search(r.text).group(1), "").replace(f'value="{typed}"', "")
        for r, typed in answers
    }
    assert {unknown.status_code, wrong.status_code, locked.status_code} == {401}
    assert len(texts) == 1


def test_every_refusal_costs_one_password_hash(lieu: App, clock: FixedClock, monkeypatch):
    accounts = service(lieu, clock)
    for _ in range(5):
        refused(accounts, AGENT, WRONG)
    verified: list[str] = []
    real_verify = accounts_module._verify
    monkeypatch.setattr(
        accounts_module, "_verify", lambda h, p: verified.append(h) or real_verify(h, p)
    )
    for email, password in (("intrus@ailleurs.fr", PASSWORD), (AGENT, PASSWORD), (BRON, WRONG)):
        refused(accounts, email, password)
    assert len(verified) == 3  # same timing class: the slowed account is hashed too


def test_the_delay_grows_per_account(lieu: App, clock: FixedClock):
    accounts = service(lieu, clock)
    for _ in range(5):
        refused(accounts, AGENT, WRONG)
    refused(accounts, AGENT, PASSWORD)  # slowed
    clock.instant += timedelta(seconds=61)
    refused(accounts, AGENT, WRONG)  # a sixth failure: a longer delay
    clock.instant += timedelta(seconds=61)
    refused(accounts, AGENT, PASSWORD)
    clock.instant += timedelta(seconds=61)
    assert accounts.sign_in(AGENT, PASSWORD, source=HERE).person.stage == "ok"
    # Signed in: the next mistake is not slowed.
    refused(accounts, AGENT, WRONG)
    assert accounts.sign_in(AGENT, PASSWORD, source=HERE).person.stage == "ok"


def test_one_source_address_guessing_many_accounts_is_slowed(lieu: App, clock: FixedClock):
    accounts = service(lieu, clock)
    for i in range(10):  # a spray: two tries at each of several addresses, real or not
        refused(accounts, f"personne{i // 2}@ville-corbas.fr" if i % 3 else BRON, WRONG)
    refused(accounts, DSI, PASSWORD, source=HERE)  # slowed, whoever it is for
    assert accounts.sign_in(DSI, PASSWORD, source=ELSEWHERE).person.stage == "ok"
    clock.instant += timedelta(minutes=2)
    assert accounts.sign_in(DSI, PASSWORD, source=HERE).person.stage == "ok"


def test_the_administrators_are_emailed_once_per_attack(lieu: App, clock: FixedClock):
    accounts = service(lieu, clock)
    for _ in range(4):
        refused(accounts, AGENT, WRONG)
    assert alerts(lieu.engine) == []
    for _ in range(3):
        refused(accounts, AGENT, WRONG, source=ELSEWHERE)
        clock.instant += timedelta(minutes=20)
    (alert,) = alerts(lieu.engine)
    assert set(alert.recipients.split(", ")) == {AGENT, DSI}  # those with the admin duty
    assert AGENT in alert.subject and "attaque" in alert.text_body
    assert WRONG not in alert.text_body
    clock.instant += timedelta(hours=2)
    accounts.sign_in(AGENT, PASSWORD, source=HERE)  # the episode ends
    for _ in range(5):
        refused(accounts, AGENT, WRONG)
    assert len(alerts(lieu.engine)) == 2
