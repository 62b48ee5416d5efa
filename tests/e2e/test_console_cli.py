"""`intake staff` and `intake web` as the IT person runs them."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import httpx

from intake.sandbox.server import free_port
from tests.e2e.conftest import LAUNCHER, Intake

AGENT = "l.feuga@ville-corbas.fr"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def staff_password(intake: Intake, email: str, password: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(LAUNCHER), "staff", "password", email],
        cwd=intake.folder,
        env=intake.env,
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_accounts_are_for_staff_only(initialised: Intake):
    assert "pas de mot de passe" in initialised("staff", "list").out
    done = staff_password(initialised, AGENT, "un mot de passe assez long")
    assert done.returncode == 0 and "Mot de passe défini pour Laetitia Feuga" in done.stdout
    assert "compte actif, jamais connecté(e)" in initialised("staff", "list").out
    stranger = staff_password(initialised, "intrus@ailleurs.fr", "un mot de passe assez long")
    assert stranger.returncode == 2 and "[[staff]]" in stranger.stderr
    short = staff_password(initialised, AGENT, "court")
    assert short.returncode == 2 and "trop court" in short.stderr
    totp = initialised("staff", "totp", AGENT)
    assert totp.code == 0 and "otpauth://totp/" in totp.out


def test_the_console_is_served_and_stops_on_sigterm(initialised: Intake):
    staff_password(initialised, AGENT, "un mot de passe assez long")
    config = initialised.folder / "intake.toml"
    config.write_text(config.read_text() + "\n[web]\ninsecure_http = true\n")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "web", "--listen", f"127.0.0.1:{port}"],
        cwd=initialised.folder,
        env=initialised.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/connexion", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        with httpx.Client(base_url=url) as web:
            token = CSRF.search(web.get("/connexion").text).group(1)
            signed = web.post(
                "/connexion",
                data={"email": AGENT, "mot_de_passe": "un mot de passe assez long", "csrf": token},
            )
            assert "Tableau de bord" in web.get("/").text, signed.text
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=15)
    assert server.returncode == 0, err
    assert f"Console : http://127.0.0.1:{port}" in out
    assert "un mot de passe" not in out + err


def test_a_bad_listen_address(initialised: Intake):
    run = initialised("web", "--listen", "nulle-part")
    assert run.code == 2 and "HOTE:PORT" in run.err
