"""The terminal asks who acts (issue 25, item 4; cli.md "Who acts"): a command that reveals
personal data or signs for a person authenticates the person it names as the console does,
their password then their TOTP code, with the console's delays. Typing a colleague's address
is not enough: refused, exit 2, nothing revealed, the refusal in the audit trail."""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from intake.desk.accounts import TERMINAL_REFUSED
from intake.desk.throttle import ACCOUNT_FREE
from tests.e2e.conftest import CONSOLE_PASSWORD, LAUNCHER, Intake, Run, give_password
from tests.support.feeds import PERSONAL, SAMPLES
from tests.support.lieu import NOW

AGENT = "l.feuga@ville-corbas.fr"
COLLEAGUE = "m.durand@ville-corbas.fr"
COLLEAGUES_PASSWORD = "le mot de passe de Marc Durand"
SAMPLE_FEED = str(SAMPLES / "flux-69273-corbas.xml")
NUMERO = "ME-2026-0000101"
REFUSED = f"intake : {TERMINAL_REFUSED}\n"
MAY_FIRST = "2027-05-01T03:00:00+02:00"  # the samples' purge: attestation n° 1
SIGNING = "2027-05-04T10:00:00+02:00"


@pytest.fixture
def lieu(initialised: Intake) -> Intake:
    """The samples held; two people of [[staff]] for Corbas, each with a console password."""
    config = initialised.folder / "intake.toml"
    config.write_text(
        config.read_text()
        + '\n[[staff]]\nname = "Marc Durand"\nfunction = "Accueil"\n'
        + f'email = "{COLLEAGUE}"\nduties = ["recipient"]\ncommunes = ["69273"]\n'
    )
    assert initialised("ingest", SAMPLE_FEED).code == 0
    give_password(initialised, AGENT)
    give_password(initialised, COLLEAGUE, COLLEAGUES_PASSWORD)
    return initialised


def events(intake: Intake, action: str) -> list[tuple[str, str | None, dict[str, object]]]:
    with sqlite3.connect(intake.folder / "data" / "intake.db") as db:
        rows = db.execute(
            "SELECT actor, numero, detail FROM audit_event WHERE action = ? ORDER BY seq",
            (action,),
        ).fetchall()
    return [(actor, numero, json.loads(detail or "{}")) for actor, numero, detail in rows]


def show(intake: Intake, agent: str, typed: str, now: str | None = None) -> Run:
    return intake("show", NUMERO, "--agent", agent, input=typed, now=now)


def reveals_nothing(run: Run) -> None:
    assert run.code == 2, (run.out, run.err)
    assert run.out == "" and run.err == REFUSED
    assert not any(personal in run.out + run.err for personal in PERSONAL)


# --- the password ----------------------------------------------------------------------------


def test_a_colleagues_address_without_their_password_reveals_nothing(lieu: Intake):
    typed_alone = show(lieu, COLLEAGUE, "")  # the address, nothing else
    reveals_nothing(typed_alone)
    with_my_password = show(lieu, COLLEAGUE, CONSOLE_PASSWORD + "\n")
    reveals_nothing(with_my_password)
    assert events(lieu, "lecture") == []
    refusals = events(lieu, "acces-refuse")
    assert (
        refusals
        == [
            (COLLEAGUE, NUMERO, {"demande": "lecture", "motif": "authentification"}),
        ]
        * 2
    )  # and the audit trail names whose address was typed, not what was typed
    assert COLLEAGUES_PASSWORD not in json.dumps(refusals)
    assert len(events(lieu, "connexion-refusee")) == 2  # the console's own event, too


def test_a_wrong_password_an_unknown_address_and_no_account_read_the_same(lieu: Intake):
    wrong = show(lieu, COLLEAGUE, "pas le bon mot de passe\n")
    unknown = show(lieu, "curieux@ailleurs.fr", COLLEAGUES_PASSWORD + "\n")
    reveals_nothing(wrong)
    reveals_nothing(unknown)
    assert wrong.err == unknown.err
    actors = [actor for actor, _, _ in events(lieu, "acces-refuse")]
    assert actors == [COLLEAGUE, "inconnu:non-habilite"]  # a stranger's typing is not kept


def test_the_right_password_reveals_and_the_reading_names_its_person(lieu: Intake):
    shown = show(lieu, COLLEAGUE, COLLEAGUES_PASSWORD + "\n")
    assert shown.code == 0, shown.err
    assert "Bernard" in shown.out
    assert COLLEAGUES_PASSWORD not in shown.out + shown.err
    assert [(actor, numero) for actor, numero, _ in events(lieu, "lecture")] == [
        (COLLEAGUE, NUMERO)
    ]
    assert events(lieu, "acces-refuse") == []


def test_every_command_that_reveals_or_signs_asks(lieu: Intake, tmp_path: Path):
    output = tmp_path / "export.csv"
    wrong = "pas le bon mot de passe\n"
    exported = lieu("export", "--agent", AGENT, "--format", "csv", "-o", str(output), input=wrong)
    reveals_nothing(exported)
    assert not output.exists()
    to_stdout = lieu("export", "--agent", AGENT, "--format", "json", "-o", "-", input=wrong)
    reveals_nothing(to_stdout)
    ended = lieu("convention", "end", "--agent", AGENT, "--yes", input=wrong)
    reveals_nothing(ended)
    assert {d["status"] for d in json.loads(lieu("demandes", "--json").out)} == {"received"}

    assert lieu("purge", now=MAY_FIRST).code == 0
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 not really a scan")
    for command in (
        ("attestation", "record-signed", "1", "--signer", AGENT, "--file", str(scan)),
        ("attestation", "sign", "1", "--signer", AGENT, "--pkcs12", str(scan)),
    ):
        run = lieu(*command, input=wrong, now=SIGNING)
        assert (run.code, run.err) == (2, REFUSED), command
    listing = json.loads(lieu("attestations", "--json", now=SIGNING).out)
    assert listing[0]["state"] == "pending"
    asked = [detail["demande"] for _, _, detail in events(lieu, "acces-refuse")]
    assert asked == [
        "export",
        "export",
        "fin-de-convention",
        "signature-attestation",
        "signature-attestation",
    ]


# --- the code --------------------------------------------------------------------------------


def totp_of(intake: Intake, email: str) -> pyotp.TOTP:
    enabled = intake("staff", "totp", email)
    assert enabled.code == 0, enabled.err
    uri = next(word for word in enabled.out.split() if word.startswith("otpauth://"))
    return pyotp.parse_uri(uri)


def test_with_a_code_it_is_asked_for_and_never_accepted_twice(lieu: Intake):
    totp = totp_of(lieu, COLLEAGUE)
    password = COLLEAGUES_PASSWORD + "\n"
    code = totp.at(NOW)  # each command's clock starts at the suite's NOW
    wrong_code = next(c for c in ("000000", "111111") if c != code)
    reveals_nothing(show(lieu, COLLEAGUE, password))  # no second line: no code
    reveals_nothing(show(lieu, COLLEAGUE, password + wrong_code + "\n"))
    reveals_nothing(show(lieu, COLLEAGUE, "pas le bon mot de passe\n" + code + "\n"))
    shown = show(lieu, COLLEAGUE, password + code + "\n")
    assert shown.code == 0 and "Bernard" in shown.out, shown.err
    replayed = show(lieu, COLLEAGUE, password + code + "\n")
    reveals_nothing(replayed)  # an accepted code never opens a second reading
    motifs = [detail.get("motif") for _, _, detail in events(lieu, "connexion-refusee")]
    assert motifs == ["code", "code", "identifiants", "code"]
    later = (NOW + timedelta(seconds=30)).isoformat()
    next_code = totp.at(NOW + timedelta(seconds=30))
    assert show(lieu, COLLEAGUE, password + next_code + "\n", now=later).code == 0


# --- the delays --------------------------------------------------------------------------------


def test_repeated_failures_slow_the_account_down_even_for_the_right_password(lieu: Intake):
    for _ in range(ACCOUNT_FREE):
        reveals_nothing(show(lieu, COLLEAGUE, "une supposition\n"))
    assert [actor for actor, _, _ in events(lieu, "compte-verrouille")] == [COLLEAGUE]
    slowed = show(lieu, COLLEAGUE, COLLEAGUES_PASSWORD + "\n")
    reveals_nothing(slowed)  # the same words: the delay is not told apart
    assert events(lieu, "connexion-refusee")[-1][2] == {"motif": "ralenti"}
    after_the_delay = (NOW + timedelta(minutes=2)).isoformat()
    shown = show(lieu, COLLEAGUE, COLLEAGUES_PASSWORD + "\n", now=after_the_delay)
    assert shown.code == 0 and "Bernard" in shown.out, shown.err
    # the colleague next door, at the same terminal, was never slowed down
    assert show(lieu, AGENT, CONSOLE_PASSWORD + "\n").code == 0


# --- where the secrets are read ------------------------------------------------------------------


def test_standard_input_of_the_real_program_gives_the_password_then_the_code(lieu: Intake):
    totp = totp_of(lieu, COLLEAGUE)
    typed = f"{COLLEAGUES_PASSWORD}\n{totp.at(NOW)}\n"
    piped = lieu("show", NUMERO, "--agent", COLLEAGUE, input=typed, process=True)
    assert piped.code == 0 and "Bernard" in piped.out, piped.err
    assert "Mot de passe" not in piped.out + piped.err  # nothing asked: it was read


def test_on_a_terminal_both_are_asked_for_and_not_echoed(lieu: Intake):
    totp = totp_of(lieu, COLLEAGUE)
    code = totp.at(datetime.fromisoformat(lieu.env["INTAKE_TEST_NOW"]))
    screen = on_a_terminal(
        lieu,
        ["show", NUMERO, "--agent", COLLEAGUE],
        {"Mot de passe de la console": COLLEAGUES_PASSWORD, "Code à usage unique": code},
    )
    assert f"Mot de passe de la console pour {COLLEAGUE} :" in screen
    assert "Bernard" in screen
    assert COLLEAGUES_PASSWORD not in screen and code not in screen  # typed, never shown


def on_a_terminal(intake: Intake, args: list[str], answers: dict[str, str]) -> str:
    """The real program on a pseudo-terminal of its own; each prompt answered once. What the
    terminal showed, as text."""
    pid, master = pty.fork()
    if pid == 0:  # the child: the program, its terminal the pty
        try:
            os.chdir(intake.folder)
            os.execve(sys.executable, [sys.executable, str(LAUNCHER), *args], intake.env)
        finally:
            os._exit(127)  # never back into the tests
    screen = b""
    pending = dict(answers)
    try:
        for _ in range(2000):  # bounded: a few seconds at most
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the program ended: the pty is closed
                    break
                if not chunk:
                    break
                screen += chunk
            text = screen.decode("utf-8", "replace")
            for prompt in [p for p in pending if p in text]:
                os.write(master, (pending.pop(prompt) + "\n").encode())
    finally:
        os.close(master)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, screen.decode("utf-8", "replace")
    assert not pending, screen.decode("utf-8", "replace")
    return screen.decode("utf-8", "replace")


def test_the_services_own_work_needs_no_person(lieu: Intake):
    assert lieu("purge", now=MAY_FIRST, input="").code == 0  # nothing typed: nothing asked
    assert events(lieu, "acces-refuse") == []
