"""`intake poll` and `intake status` as the IT person runs them, against the sandbox."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta

from tests.e2e.conftest import ACCOUNT, LAUNCHER, Intake


def configure(intake: Intake, url: str) -> None:
    config = intake.folder / "intake.toml"
    config.write_text(
        config.read_text() + f'\n[extranet]\nurl = "{url}"\naccount = "{ACCOUNT}"\n'
        'password_env = "INTAKE_EXTRANET_PASSWORD"\n'
    )
    intake.env["INTAKE_EXTRANET_PASSWORD"] = "bac-a-sable"


def rows(intake: Intake) -> list[tuple[str, str | None]]:
    with sqlite3.connect(intake.folder / "data" / "intake.db", timeout=5) as db:
        return db.execute("SELECT numero, acknowledged_at FROM demande ORDER BY numero").fetchall()


def test_poll_then_status(initialised: Intake, sandbox):
    state, url = sandbox
    configure(initialised, url)
    made = {d.numero for d in state.add_demandes(3, age=timedelta(days=1))}
    run = initialised("poll")
    assert run.code == 0, run.out + run.err
    assert "3 demande(s) dans le flux, 3 acquittée(s)" in run.out
    assert {numero for numero, _ in rows(initialised)} == made
    status = json.loads(initialised("status", "--json").out)
    (commune,) = status["communes"]
    assert commune["insee"] == "69273" and commune["last_success"] and commune["last_error"] is None
    # one announcement for the batch, queued: no [smtp] in this configuration
    assert status["outbox"] == {"queued": 1, "failed": 0} and status["overdue"] == 0
    assert "1 annonce(s)" in run.out and "restent en file" in run.out
    assert "pas de [smtp] configuré" in initialised("status").out


def test_an_unreachable_extranet_exits_3_and_shows_in_status(initialised: Intake):
    configure(initialised, "http://127.0.0.1:9")
    run = initialised("poll")
    assert run.code == 3 and "injoignable" in run.out
    (commune,) = json.loads(initialised("status", "--json").out)["communes"]
    assert commune["last_error"] and commune["last_error_code"] == "injoignable"


def test_a_kill_between_commit_and_acknowledgement_is_repaired(initialised: Intake, sandbox):
    state, url = sandbox
    configure(initialised, url)
    made = {d.numero for d in state.add_demandes(4, age=timedelta(days=1))}
    state.faults.ack_delay = 3.0  # the first acknowledgement hangs: the process dies meanwhile
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "poll"],
        cwd=initialised.folder,
        env=initialised.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not rows(initialised):
        time.sleep(0.05)
    stored_first = rows(initialised)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert stored_first and all(acknowledged is None for _, acknowledged in stored_first)
    time.sleep(state.faults.ack_delay + 0.5)  # let the sandbox notice the client is gone
    assert state.public_state()["acknowledged"] == {}  # the acknowledgement was lost

    state.faults.ack_delay = 0.0
    run = initialised("poll")
    assert run.code == 0, run.out + run.err
    final = rows(initialised)
    assert {numero for numero, _ in final} == made  # each stored once (the numero is the key)
    assert all(acknowledged is not None for _, acknowledged in final)
    public = state.public_state()
    assert set(public["acknowledged"]) == made and public["pending"]["69273"] == []


def test_two_accounts_retrieve_annexe_1_each_with_its_own_password(initialised: Intake):
    """Corbas through Laetitia Feuga's account, Bron through the Bron agent's: each person
    signs in with her own identifiers, never a shared account."""
    from intake.sandbox.server import start
    from intake.sandbox.state import Account, SandboxState
    from tests.support.lieu import NOW

    bron = "accueil@ville-bron.fr"
    state = SandboxState(
        accounts={
            ACCOUNT: Account(ACCOUNT, "bac-a-sable", frozenset({"69273"})),
            bron: Account(bron, "mot-de-bron", frozenset({"69029"})),
        },
        communes={"69273": "Corbas", "69029": "Bron"},
        seed=5,
        now=lambda: NOW,
    )
    server, url = start(state)
    try:
        config = initialised.folder / "intake.toml"
        config.write_text(
            config.read_text()
            + '\n[[communes]]\ninsee = "69029"\nname = "Bron"\n'
            + f'\n[[staff]]\nname = "Agent Bron"\nemail = "{bron}"\nduties = ["recipient"]\n'
            + 'communes = ["69029"]\n'
            + f'\n[extranet]\nurl = "{url}"\n'
            + f'\n[[extranet.accounts]]\naccount = "{ACCOUNT}"\npassword_env = "PW_FEUGA"\n'
            + f'\n[[extranet.accounts]]\naccount = "{bron}"\npassword_env = "PW_BRON"\n'
        )
        initialised.env.update(PW_FEUGA="bac-a-sable", PW_BRON="mot-de-bron")
        made = state.add_demandes(2, "69273", age=timedelta(days=1))
        made += state.add_demandes(2, "69029", age=timedelta(days=1))
        run = initialised("poll")
        assert run.code == 0, run.out + run.err
        assert {numero for numero, _ in rows(initialised)} == {d.numero for d in made}
        assert initialised("check-config").code == 0
    finally:
        server.shutdown()
        server.server_close()
