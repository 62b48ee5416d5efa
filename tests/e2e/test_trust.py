"""Trust under attack, as the IT person and an attacker would try it with the `intake` command:
a wrong key file, a rewritten or wiped audit trail, a key rotation, files left readable,
secrets asked for by commands that do not use them, data read past its time."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from datetime import timedelta

from storage.vault import generate_master_key_file
from tests.e2e.conftest import Intake, give_password
from tests.e2e.test_poll import configure
from tests.support.feeds import SAMPLES

SAMPLE_FEED = str(SAMPLES / "flux-69273-corbas.xml")
AGENT = "l.feuga@ville-corbas.fr"


def database(intake: Intake) -> sqlite3.Connection:
    return sqlite3.connect(intake.folder / "data" / "intake.db", timeout=5)


def count(intake: Intake, table: str) -> int:
    with database(intake) as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def swap_key(intake: Intake) -> None:
    """A restored backup of another installation's key, or a typo in vault.key_file."""
    key = intake.folder / "secrets" / "master.key"
    key.unlink()
    generate_master_key_file(key)


# --- key identity -------------------------------------------------------------------------------


def test_a_wrong_key_file_stores_and_acknowledges_nothing(initialised: Intake, sandbox):
    state, url = sandbox
    configure(initialised, url)
    assert initialised("ingest", SAMPLE_FEED).code == 0
    swap_key(initialised)

    state.add_demandes(2, age=timedelta(days=1))
    for command in (
        ("poll",),
        ("ingest", SAMPLE_FEED),
        ("show", "ME-2026-0000101", "--agent", AGENT),
    ):
        run = initialised(*command)
        assert run.code == 2, (command, run.out, run.err)
        assert "clé maîtresse n'est pas celle de cette base" in run.err
    assert not state.acknowledged  # nothing left the extranet
    assert count(initialised, "demande") == 3  # the samples, from before the swap
    run = initialised("run")
    assert run.code == 2 and "clé maîtresse" in run.err
    checked = initialised("check-config")
    assert checked.code == 2 and "vault.key_file" in checked.err


def test_rotation_rewraps_every_key_and_installs_the_new_one(initialised: Intake):
    assert initialised("ingest", SAMPLE_FEED).code == 0
    new_key = initialised.folder / "nouvelle.key"
    assert initialised("vault", "new-key", str(new_key)).code == 0
    old_key = (initialised.folder / "secrets" / "master.key").read_bytes()

    run = initialised("vault", "rotate", "--new-key", str(new_key), "--agent", AGENT)
    assert run.code == 0, run.err
    assert "clé(s) d'échéance du magasin de clés" in run.out
    purge_keys = list((initialised.folder / "secrets" / "cles").glob("*.cle"))
    assert purge_keys  # one envelope each, the new key's: the old one was dropped
    assert all(len(path.read_text().splitlines()) == 1 for path in purge_keys)
    installed = initialised.folder / "secrets" / "master.key"
    assert installed.read_bytes() == new_key.read_bytes()
    (kept,) = installed.parent.glob("master.key.avant-*")
    assert kept.read_bytes() == old_key and stat.S_IMODE(kept.stat().st_mode) == 0o600

    password = give_password(initialised, AGENT)
    shown = initialised("show", "ME-2026-0000102", "--agent", AGENT, input=password)
    assert shown.code == 0 and "Nguyễn" in shown.out
    verified = json.loads(initialised("audit", "verify", "--json").out)
    assert verified["ok"], verified  # the chain's key survived the rotation

    shutil.copyfile(kept, installed)  # the old key no longer opens this database
    refused = initialised("show", "ME-2026-0000102", "--agent", AGENT, input=password)
    assert refused.code == 2 and "clé maîtresse" in refused.err


# --- the audit trail ----------------------------------------------------------------------------


def test_a_wiped_trail_is_found(initialised: Intake):
    assert initialised("ingest", SAMPLE_FEED).code == 0
    assert json.loads(initialised("audit", "verify", "--json").out)["ok"]
    with database(initialised) as db:
        db.execute("DELETE FROM audit_event")
        db.execute("UPDATE audit_head SET seq = 0, hash = ?", ("0" * 64,))
    run = initialised("audit", "verify", "--json")
    verified = json.loads(run.out)
    assert run.code == 1 and not verified["ok"] and verified["events"] == 0
    problems = " ".join(verified["problems"])
    assert "ME-2026-0000101" in problems and "reception" in problems  # the store accounts
    assert "supprimés" in problems  # and the anchor written by the first verification


def test_the_newest_events_cut_with_the_head_fixed_are_found(initialised: Intake):
    assert initialised("ingest", SAMPLE_FEED).code == 0
    password = give_password(initialised, AGENT)
    assert initialised("show", "ME-2026-0000101", "--agent", AGENT, input=password).code == 0
    assert json.loads(initialised("audit", "verify", "--json").out)["ok"]  # anchors the head
    with database(initialised) as db:
        (seq, link) = db.execute(
            "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1 OFFSET 1"
        ).fetchone()
        db.execute("DELETE FROM audit_event WHERE seq > ?", (seq,))  # the reading disappears
        db.execute("UPDATE audit_head SET seq = ?, hash = ?", (seq, link))
    run = initialised("audit", "verify")
    assert run.code == 1 and "ancre" in run.out and "supprimés" in run.out


def test_the_newest_reading_cut_with_the_head_moved_back_is_found(initialised: Intake):
    """No verification in between: the reading anchored itself when it was committed."""
    assert initialised("ingest", SAMPLE_FEED).code == 0
    password = give_password(initialised, AGENT)
    assert initialised("show", "ME-2026-0000101", "--agent", AGENT, input=password).code == 0
    with database(initialised) as db:
        (newest,) = db.execute("SELECT action FROM audit_event ORDER BY seq DESC").fetchone()
        (seq, link) = db.execute(
            "SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1 OFFSET 1"
        ).fetchone()
        db.execute("DELETE FROM audit_event WHERE seq > ?", (seq,))
        db.execute("UPDATE audit_head SET seq = ?, hash = ?", (seq, link))
    assert newest == "lecture"
    anchors = (initialised.folder / "secrets" / "audit-anchors.log").read_text()
    assert f"seq={seq + 1} " in anchors and "motif=lecture" in anchors
    run = initialised("audit", "verify")
    assert run.code == 1, run.out
    assert f"l'événement {seq + 1} : des événements ont été supprimés" in run.out
    assert "(lecture)" in run.out


def test_an_old_unkeyed_trail_is_checked_then_rechained(initialised: Intake):
    """A database from before the keyed chain: its SHA-256 trail is checked once and
    re-chained under the key, what was found written in the trail itself."""
    assert initialised("ingest", SAMPLE_FEED).code == 0
    with database(initialised) as db:
        db.execute("DELETE FROM vault_meta")  # as the migration leaves an old database
        _rechain_unkeyed(db)
    verified = json.loads(initialised("audit", "verify", "--json").out)
    assert verified["ok"], verified
    with database(initialised) as db:
        (detail,) = db.execute(
            "SELECT detail FROM audit_event WHERE action = 'cle-enregistree' ORDER BY seq DESC"
        ).fetchone()
    assert json.loads(detail)["ancien_chainage_intact"] is True


def _rechain_unkeyed(db: sqlite3.Connection) -> None:
    from datetime import UTC, datetime

    from storage import audit
    from storage.models import AuditEvent

    previous = audit.GENESIS
    rows = db.execute(
        "SELECT seq, at, actor, action, numero, detail FROM audit_event ORDER BY seq"
    ).fetchall()
    for seq, at, actor, action, numero, detail in rows:
        event = AuditEvent(
            seq=seq,
            at=datetime.fromisoformat(at).replace(tzinfo=UTC),
            actor=actor,
            action=action,
            numero=numero,
            detail=detail,
            prev_hash=previous,
            hash="",
        )
        link = audit.legacy_digest(event)
        db.execute(
            "UPDATE audit_event SET prev_hash = ?, hash = ? WHERE seq = ?", (previous, link, seq)
        )
        previous = link
    db.execute("UPDATE audit_head SET seq = ?, hash = ?", (rows[-1][0], previous))


def test_a_refused_reading_is_in_the_trail(initialised: Intake):
    assert initialised("ingest", SAMPLE_FEED).code == 0
    refused = initialised("show", "ME-2026-0000101", "--agent", "curieux@ailleurs.fr")
    assert refused.code == 2
    with database(initialised) as db:
        actor, numero, detail = db.execute(
            "SELECT actor, numero, detail FROM audit_event WHERE action = 'acces-refuse'"
        ).fetchone()
    assert (actor, numero) == ("inconnu:non-habilite", "ME-2026-0000101")
    assert "curieux" not in detail  # whoever typed the address, it is not written down


def test_a_person_past_until_reads_and_acts_no_more_from_the_terminal(initialised: Intake):
    """Issue 25: a habilitation that ended on 30/11 ran `show` and `export` on 15/12."""
    config = initialised.folder / "intake.toml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + '\n[[staff]]\nname = "Ancien Agent"\nemail = "ancien@ville-corbas.fr"\n'
        'duties = ["recipient", "signatory"]\ncommunes = ["69273"]\nuntil = 2026-11-30\n',
        encoding="utf-8",
    )
    assert initialised("ingest", SAMPLE_FEED).code == 0
    password = give_password(initialised, "ancien@ville-corbas.fr")
    last_day, day_after = "2026-11-30T23:30:00+01:00", "2026-12-01T00:30:00+01:00"
    show = ("show", "ME-2026-0000101", "--agent", "ancien@ville-corbas.fr")
    assert initialised(*show, now=last_day, input=password).code == 0
    refused = initialised(*show, now=day_after, input=password)
    assert refused.code == 2 and "rien n'a été lu" in refused.err
    assert "Bernard" not in refused.out + refused.err
    output = initialised.folder / "export.csv"
    exported = initialised(
        "export", "--agent", "ancien@ville-corbas.fr", "--format", "csv", "-o", str(output),
        now=day_after, input=password,
    )  # fmt: skip
    assert exported.code == 2 and not output.exists()
    purge = initialised("purge", "--agent", "ancien@ville-corbas.fr", now=day_after)
    assert purge.code == 2 and "a pris fin le 30/11/2026" in purge.err
    with database(initialised) as db:
        (refusals,) = db.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'acces-refuse' "
            "AND detail LIKE '%authentification%'"
        ).fetchone()
    assert refusals == 2  # show and export, as for an unknown address


# --- personal data only in the vault, only for its time -----------------------------------------


def test_nothing_is_read_past_its_purge_day(initialised: Intake):
    assert initialised("ingest", SAMPLE_FEED).code == 0
    late = "2027-06-01T10:00:00+02:00"  # past every sample's six months, no purge run
    password = give_password(initialised, AGENT)
    shown = initialised("show", "ME-2026-0000101", "--agent", AGENT, now=late, input=password)
    assert shown.code == 1 and "destruction est due" in shown.err and "Lefèvre" not in shown.out
    output = initialised.folder / "export.csv"
    exported = initialised(
        "export", "--agent", AGENT, "--format", "csv", "-o", str(output), now=late,
        input=password,
    )  # fmt: skip
    assert exported.code == 0 and "3 demande(s) non exportée(s)" in exported.err
    assert "Lefèvre" not in output.read_text(encoding="utf-8")


def test_every_file_written_is_the_owners_alone_whatever_the_umask(intake: Intake):
    previous = os.umask(0o022)
    try:
        assert intake("init").code == 0
        assert intake("ingest", SAMPLE_FEED).code == 0
        assert intake("audit", "verify").code == 0
    finally:
        os.umask(previous)
    data = intake.folder / "data"
    written = [*data.iterdir(), intake.folder / "secrets" / "audit-anchors.log"]
    assert any(p.name == "intake.db" for p in written)
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_commands_that_do_not_connect_need_no_password(initialised: Intake, sandbox):
    _, url = sandbox
    configure(initialised, url)
    del initialised.env["INTAKE_EXTRANET_PASSWORD"]  # the account holder keeps it to herself
    assert initialised("ingest", SAMPLE_FEED).code == 0
    password = give_password(initialised, AGENT)
    for command in (
        ("show", "ME-2026-0000101", "--agent", AGENT),
        ("demandes",),
        ("audit", "verify"),
        ("deadlines",),
    ):
        run = initialised(*command, input=password)
        assert run.code == 0, (command, run.err)
    status = initialised("status")  # critical only because no service runs here
    assert status.code == 2 and status.out.startswith("INTAKE CRITICAL - service arrêté")
    polled = initialised("poll")
    assert polled.code == 2 and "INTAKE_EXTRANET_PASSWORD" in polled.err
    checked = initialised("check-config")
    assert checked.code == 2 and "INTAKE_EXTRANET_PASSWORD" in checked.err


def test_attestations_and_reports_anchor_the_head_outside_the_database(initialised: Intake):
    assert initialised("ingest", SAMPLE_FEED).code == 0
    purge = initialised("purge", "--json", now="2027-05-01T03:00:00+02:00")
    assert purge.code == 0 and json.loads(purge.out)["attestation"] == 1
    report = initialised("report", "monthly", "--month", "2027-04", "-o", "rapports")
    assert report.code == 0, report.err
    anchors = (initialised.folder / "secrets" / "audit-anchors.log").read_text()
    assert "motif=attestation-1" in anchors and "motif=rapport-2027-04" in anchors
    with database(initialised) as db:
        (seq, link) = db.execute("SELECT audit_seq, audit_hash FROM attestation").fetchone()
        # cut the trail back to before the attestation, the head made to match
        (before,) = db.execute("SELECT prev_hash FROM audit_event WHERE seq = ?", (seq,)).fetchone()
        db.execute("DELETE FROM audit_event WHERE seq >= ?", (seq,))
        db.execute("UPDATE audit_head SET seq = ?, hash = ?", (seq - 1, before))
    run = initialised("audit", "verify")
    assert run.code == 1, run.out
    assert f"atteste l'événement {seq}" in run.out and "(attestation-1)" in run.out
    assert "attestation n° 1 sans son événement" in run.out
    assert link in anchors


def test_check_config_connects_with_the_named_account(initialised: Intake, sandbox):
    _, url = sandbox
    configure(initialised, url)
    assert initialised("check-config", "--connect").code == 0
    initialised.env["INTAKE_EXTRANET_PASSWORD"] = "pas-le-bon"
    refused = initialised("check-config", "--connect")
    assert refused.code == 2 and "connexion refusée" in refused.err


def test_export_to_standard_output_for_one_commune_since_a_day(initialised: Intake):
    assert initialised("ingest", SAMPLE_FEED).code == 0
    password = give_password(initialised, AGENT)
    run = initialised(
        "export", "--agent", AGENT, "--format", "csv", "-o", "-", "--commune", "69273",
        "--since", "2026-11-23", input=password,
    )  # fmt: skip
    assert run.code == 0 and "3 demandes exportées sur la sortie standard" in run.err
    assert run.out.startswith("\ufeffNuméro;") and "Lefèvre-Dupont" in run.out
    assert not (initialised.folder / "-").exists()
    later = initialised(
        "export", "--agent", AGENT, "--format", "csv", "-o", "-", "--since", "2026-11-24",
        input=password,
    )  # fmt: skip
    assert "0 demande exportée" in later.err and len(later.out.splitlines()) == 1
    bad = initialised("export", "--agent", AGENT, "--format", "csv", "-o", "-", "--since", "hier")
    assert bad.code == 2 and "AAAA-MM-JJ" in bad.err
