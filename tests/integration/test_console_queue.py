"""The work queue: what « à traiter » holds, that every count of the dashboard is the length of
the list it links to, and the nearest deadline first."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from intake.app import App
from intake.clock import FixedClock
from storage.db import transaction
from storage.models import DemandeRow, Status
from tests.support.console import AGENT, BRON, CSRF, DSI, console_lieu, signed_in_client
from tests.support.lieu import NOW

CORBAS = "69273"
TODAY = NOW.date()


def _row(numero: str, status: Status, retrieval_due: int, purge_due: int) -> DemandeRow:
    return DemandeRow(
        numero=numero,
        commune=CORBAS,
        status=status,
        refusal_code="pdf-invalide" if status == Status.QUARANTINED else None,
        transmitted_at=NOW - timedelta(days=20),
        retrieval_due=TODAY + timedelta(days=retrieval_due),
        purge_due=TODAY + timedelta(days=purge_due),
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
def lieu(tmp_path: Path) -> App:
    """Corbas's three samples, one of them treated, one destroyed; plus an announced demande
    late for retrieval, one refused by a rule (quarantined) and one received but past its
    destruction day (a purge is due): none of those three is « à traiter »."""
    app = console_lieu(tmp_path, FixedClock(NOW))
    web = signed_in_client(app, AGENT)
    token = CSRF.search(web.get("/").text).group(1)
    web.post("/demandes/ME-2026-0000101/traitee", data={"csrf": token})
    with transaction(app.engine) as session:
        destroyed = session.get(DemandeRow, "ME-2026-0000103")
        destroyed.status, destroyed.purged_at = Status.PURGED, NOW
        session.add(destroyed)
        session.add(_row("ME-2026-0000190", Status.NOTIFIED, -2, 150))
        session.add(_row("ME-2026-0000191", Status.QUARANTINED, 4, 160))
        session.add(_row("ME-2026-0000192", Status.RECEIVED, -60, -1))
    return app


def _total(web: TestClient, link: str) -> int:
    found = re.search(r'data-total="(\d+)"', web.get(link.replace("&amp;", "&")).text)
    assert found is not None, link
    return int(found.group(1))


def _numeros(web: TestClient, link: str) -> list[str]:
    return re.findall(r">(ME-\d{4}-\d{7})<", web.get(link).text)


@pytest.mark.parametrize("email", [AGENT, BRON, DSI])
def test_every_count_of_the_dashboard_is_the_list_it_links_to(lieu: App, email: str):
    web = signed_in_client(lieu, email)
    board = web.get("/").text
    counts = re.findall(r'<a href="(/demandes\?[^"]+)" data-compte="(\d+)"', board)
    assert len(counts) >= 3  # to treat, to retrieve, late: for each of the person's communes
    for link, count in counts:
        assert _total(web, link) == int(count), link
    headline = re.search(r'<a href="(/demandes\?traitement=a-traiter)"><strong>(\d+)', board)
    assert headline is not None
    assert _total(web, headline.group(1)) == int(headline.group(2))


def test_to_treat_is_held_readable_and_not_treated(lieu: App):
    web = signed_in_client(lieu, AGENT)
    assert _numeros(web, "/demandes?traitement=a-traiter") == ["ME-2026-0000102"]
    board = web.get("/").text
    assert f'commune={CORBAS}&amp;traitement=a-traiter" data-compte="1"' in board
    assert f'commune={CORBAS}&amp;statut=a-recuperer" data-compte="2"' in board
    assert f'commune={CORBAS}&amp;statut=en-retard" data-compte="1"' in board
    assert _numeros(web, "/demandes?statut=en-retard") == ["ME-2026-0000190"]


def test_the_nearest_deadline_comes_first(lieu: App):
    web = signed_in_client(lieu, AGENT)
    # Retrieval late by 2 days, destruction due yesterday, retrieval in 4 days; tombstones last.
    listed = _numeros(web, "/demandes")
    assert listed[:3] == ["ME-2026-0000190", "ME-2026-0000192", "ME-2026-0000191"]
    assert listed[-1] == "ME-2026-0000103"
    newest = _numeros(web, "/demandes?tri=recentes")
    assert sorted(newest) == sorted(listed) and newest != listed
