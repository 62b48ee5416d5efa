"""Several `intake run`: refused on one SQLite file, sharing the work on PostgreSQL; the
heartbeat that `intake status` reads; JSON logs."""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from sqlalchemy import text

from storage.db import make_engine
from tests.conftest import PG_ENV
from tests.e2e.conftest import Intake
from tests.e2e.test_poll import configure
from tests.e2e.test_run import start_daemon, stop, wait_for, with_smtp
from tests.support.required import missing


def test_a_second_daemon_on_the_same_sqlite_file_refuses_to_start(initialised: Intake):
    first = start_daemon(initialised)
    try:
        assert wait_for(
            lambda: json.loads(initialised("status", "--json").out)["service"] == "running", 60
        )
        second = initialised("run")
        assert second.code == 2
        assert "utilise déjà la base" in second.err and "PostgreSQL" in second.err
    finally:
        code, _ = stop(first)
    assert code == 0
    after = initialised("status", "--json")
    # A stopped service is critical for the supervision (Nagios' 2), once stopped cleanly too.
    assert after.code == 2 and json.loads(after.out)["service"] == "stopped"


def test_status_exits_1_when_the_service_fell_silent(initialised: Intake):
    process = start_daemon(initialised)
    assert wait_for(lambda: "en marche" in initialised("status").out, 60)
    process.kill()  # no goodbye: the heartbeat stays behind
    process.wait(timeout=10)
    later = initialised(
        "status", "--json", now="2026-11-23T11:10:00+00:00"
    )  # the daemon ran at 10:00 (the suite's clock), nothing since
    assert later.code == 1  # silent for 70 minutes: a warning; after three polls, critical
    assert json.loads(later.out)["service"] == "silent"
    critical = initialised("status", "--json", now="2026-11-23T11:40:00+00:00")
    assert critical.code == 2 and "service muet" in json.loads(critical.out)["summary"]
    assert "SILENCIEUX" in initialised("status", now="2026-11-23T11:10:00+00:00").out


def test_log_json_gives_one_object_per_line(initialised: Intake):
    run = initialised("--log-json", "-v", "ingest", "/nonexistent.xml")
    for line in filter(None, run.err.splitlines()):
        event = json.loads(line)
        assert {"at", "level", "logger", "message"} <= set(event)


@pytest.fixture
def pg_schema_url():
    url = os.environ.get(PG_ENV)
    if not url:
        missing(PG_ENV, "the PostgreSQL tier; set it to a database URL")
    schema = f"w_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{url}?options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.mark.postgres
def test_three_workers_on_postgresql_do_each_thing_once(
    initialised: Intake, sandbox, pg_schema_url, tmp_path
):
    from tests.support.smtp import SmtpServer

    state, url = sandbox
    configure(initialised, url)
    smtp = SmtpServer().start()
    try:
        with_smtp(initialised, smtp.port)
        config = initialised.folder / "intake.toml"
        config.write_text(
            config.read_text().replace(
                'url = "sqlite:///data/intake.db"', f'url = "{pg_schema_url}"'
            )
        )
        # The lieu has been running since October: October's report is due, once.
        assert initialised("poll", now="2026-10-05T10:00:00+02:00").code == 0
        made = {d.numero for d in state.add_demandes(12, age=timedelta(days=1))}
        workers = [start_daemon(initialised) for _ in range(3)]
        try:
            assert wait_for(lambda: set(state.public_state()["acknowledged"]) == made, 120)
            assert wait_for(lambda: len(smtp.sink.messages) >= 2, 60)
            time.sleep(3)  # time for a duplicate, were there one
        finally:
            codes = [stop(worker)[0] for worker in workers]
        assert codes == [0, 0, 0]
        engine = make_engine(pg_schema_url)
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT count(*) FROM demande")).scalar()
            reports = connection.execute(text("SELECT month FROM monthly_report")).all()
            ingested = connection.execute(
                text("SELECT count(*) FROM audit_event WHERE action = 'reception'")
            ).scalar()
        engine.dispose()
        assert stored == 12 and ingested == 12
        assert reports == [("2026-10",)]
        emails = [message_from_bytes(m, policy=default) for m in smtp.sink.messages]
        ids = [e["Message-ID"] for e in emails]
        assert len(ids) == len(set(ids)), ids  # no outbox message delivered twice
        # The workers may announce the twelve in several batches, but each demande once.
        announcements = [
            e.get_body(("plain",)).get_content() for e in emails if "nouvelle" in e["Subject"]
        ]
        for numero in made:
            assert sum(numero in body for body in announcements) == 1, numero
        assert sum("Rapport mensuel" in e["Subject"] for e in emails) == 1
    finally:
        smtp.stop()
