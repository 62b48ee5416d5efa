"""The console in a real browser: Debian's Chromium driven by Playwright, against the console
served by uvicorn on loopback, and axe-core (the npm package that `npm ci` installs at the
repository's root) run on each page shown.

The test modules import the fixtures (`console`, `browser`) by name. Screenshots are taken on
every run and kept in docs/console/ only when `scripts/screenshots` asks (INTAKE_SCREENSHOTS):
a test run leaves the working tree as it found it."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from intake.app import App
from intake.clock import FixedClock
from intake.web.app import create_app
from intake.web.server import listening_socket
from tests.support.console import AGENT, PASSWORD, console_lieu
from tests.support.lieu import NOW
from tests.support.required import missing
from tests.support.smtp import SmtpServer

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# Where `scripts/screenshots` wants the pictures; elsewhere they are taken, then dropped.
SHOTS_ENV = "INTAKE_SCREENSHOTS"
# What a headless Chromium needs on a closed machine (as root, no sandbox, no background calls).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=fr-FR",
]


@dataclass(frozen=True)
class Screen:
    """A window the console must be usable in: an office screen, a phone held upright."""

    name: str  # the screenshots' suffix ("" for the office screen)
    width: int
    height: int


DESKTOP = Screen("", 1366, 768)
PHONE = Screen("-telephone", 390, 844)
SCREENS = [pytest.param(DESKTOP, id="1366x768"), pytest.param(PHONE, id="390x844")]


@dataclass
class Console:
    url: str
    app: App
    clock: FixedClock
    smtp: SmtpServer  # where the emails to families go


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    clock = FixedClock(NOW)
    smtp = SmtpServer().start()
    sender = "intake@ville-corbas.fr"
    extra = f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsender = "{sender}"\n'
    app = console_lieu(tmp_path, clock, extra=extra)
    listener = listening_socket("127.0.0.1", 0)
    config = uvicorn.Config(create_app(app), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the console did not start"
    yield Console(f"http://127.0.0.1:{listener.getsockname()[1]}", app, clock, smtp)
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()
    smtp.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        missing(CHROMIUM, "the browser tier; scripts/test-services installs chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # LANGUAGE: Chromium's own words in French (Debian's chromium-l10n), so that a date
        # field reads « jj/mm/aaaa » as the console's hint next to it says.
        environment = {**os.environ, "LANGUAGE": "fr"}
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, env=environment)
        yield launched
        launched.close()


Window = Callable[..., Any]  # open_window: (screen=DESKTOP) -> a Playwright page


@pytest.fixture
def open_window(browser: Any, console: Console) -> Iterator[Window]:
    """Opens a page in a browser window of its own (its own cookies), of a screen's size
    (the office screen's by default); each is closed after the test."""
    contexts: list[Any] = []

    def open_one(screen: Screen = DESKTOP) -> Any:
        context = browser.new_context(
            base_url=console.url,
            accept_downloads=True,
            locale="fr-FR",
            viewport={"width": screen.width, "height": screen.height},
        )
        contexts.append(context)
        return context.new_page()

    yield open_one
    for context in contexts:
        context.close()


def shot(page: Any, name: str) -> None:
    picture = page.screenshot(full_page=True)
    assert picture.startswith(b"\x89PNG")
    folder = os.environ.get(SHOTS_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.png").write_bytes(picture)


def nav(page: Any, name: str) -> None:
    """Follow a link of the main menu (the breadcrumbs may name the same page)."""
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("link", name=name, exact=True).click()
    page.wait_for_load_state()


def sign_in(page: Any, email: str = AGENT, password: str = PASSWORD) -> None:
    page.goto("/connexion")
    page.fill("#email", email)
    page.fill("#mot_de_passe", password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


@cache
def axe_source() -> str:
    if not AXE.exists():
        missing("axe-core", "run `npm ci` at the repository's root (scripts/test-services does)")
    return AXE.read_text(encoding="utf-8")


# The impacts that fail a page: axe's "serious" and "critical" (its "minor" and "moderate" are
# reported in the failure's message when something else fails, not on their own).
BLOCKING = ("serious", "critical")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations of the page as shown (WCAG 2.x A and AA rules, and axe's best
    practices). The console's policy allows no script: axe runs through Playwright's evaluate,
    which the page's Content-Security-Policy does not govern, so the policy stays as served."""
    source = axe_source()
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }"""
    )
    return list(result)


def check(page: Any, screen: Screen, what: str) -> None:
    """The page shown passes axe-core (no serious or critical violation), each of its tables
    has a caption and a region of its own that scrolls (templates/_composants.html), and the
    page is no wider than the window."""
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"{what} ({page.url}): " + json.dumps(violations, ensure_ascii=False)
    bare = page.evaluate(
        """() => [...document.querySelectorAll('table')]
            .filter(t => !t.caption || !t.closest('.defile[role=region][tabindex]')).length"""
    )
    assert bare == 0, f"{what} ({page.url}): a table without its caption or its scrolling region"
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], (
        f"{what} ({page.url}) is {width[0]} px wide in {width[1]} px: {overflowing(page)}"
    )


def overflowing(page: Any) -> list[str]:
    """The elements reaching past the window's right edge, outermost first (at most five)."""
    found = page.evaluate(
        """() => [...document.body.querySelectorAll('*')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5
                         && !e.closest('.defile'))
            .slice(0, 5)
            .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                      + ' ' + Math.round(e.getBoundingClientRect().right) + ' px')"""
    )
    return list(found)
