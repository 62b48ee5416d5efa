"""The `intake` command on the shared samples, as an agent and the IT person use it."""

from __future__ import annotations

import json
import sqlite3
import stat

from tests.e2e.conftest import Intake, adapt, give_password
from tests.support.feeds import SAMPLES, Dem, every_violation, numero, write_feed

AGENT = "l.feuga@ville-corbas.fr"
SAMPLE_FEED = str(SAMPLES / "flux-69273-corbas.xml")


def test_init_writes_a_valid_configuration_and_refuses_to_overwrite(intake: Intake):
    first = intake("init", script=True)
    assert first.code == 0, first.err
    assert "exemple = true" in first.out
    assert stat.S_IMODE((intake.folder / "secrets" / "master.key").stat().st_mode) == 0o600
    assert (intake.folder / "data" / "intake.db").exists()
    adapt(intake.folder / "intake.toml")
    assert intake("check-config", script=True).code == 0
    again = intake("init", script=True)
    assert again.code == 2 and "écraser" in again.err


def test_the_templates_example_cannot_run_by_mistake(intake: Intake):
    """Left as written, the template would serve the example's commune under the example's
    name: the commands that act for the lieu refuse it, in French, until it is replaced."""
    assert intake("init").code == 0
    for command in (("check-config",), ("run",), ("poll",)):
        refused = intake(*command)
        assert refused.code == 2, (command, refused.err)
        assert "Configuration invalide" in refused.err and "exemple = true" in refused.err
        assert "LI-69-0042 (CCAS de Corbas)" in refused.err
    assert intake("demandes").code == 0  # reading what is held is no harm
    adapt(intake.folder / "intake.toml")
    assert "Configuration valide" in intake("check-config").out


def test_check_config_reads_the_lieu_s_letters(intake: Intake):
    """A letter to families naming a value outside the fixed set is found before an agent
    opens it in the console."""
    assert intake("init").code == 0
    adapt(intake.folder / "intake.toml")
    with (intake.folder / "intake.toml").open("a", encoding="utf-8") as config:
        config.write('\n[family_emails]\ntemplates = "modeles-familles"\n')
    letters = intake.folder / "modeles-familles"
    letters.mkdir()
    (letters / "relance.txt").write_text("Objet : Relance\n\nBonjour $motdepasse\n", "utf-8")
    refused = intake("check-config")
    assert refused.code == 2 and "family_emails.templates" in refused.err
    assert "$motdepasse n’est pas une donnée disponible" in refused.err
    (letters / "relance.txt").write_text("Objet : Relance\n\nBonjour $nom_famille\n", "utf-8")
    assert "Configuration valide" in intake("check-config").out


def test_the_samples_from_ingest_to_reading(initialised: Intake, tmp_path):
    run = initialised("ingest", SAMPLE_FEED)
    assert run.code == 0, run.err
    assert "ME-2026-0000101  intégrée" in run.out and "3 intégrée(s)" in run.out
    assert initialised("ingest", SAMPLE_FEED).out.count("  déjà détenue") == 3

    listing = json.loads(initialised("demandes", "--json").out)
    assert [
        (d["numero"], d["status"], d["retrieval_due"], d["purge_due"], d["retrieval_met"])
        for d in listing
    ] == [
        ("ME-2026-0000101", "received", "2026-11-18", "2027-05-03", False),
        ("ME-2026-0000102", "received", "2026-11-21", "2027-05-06", False),
        ("ME-2026-0000103", "received", "2026-11-25", "2027-05-10", True),
    ]
    assert listing[0]["transmitted_at"] == "2026-11-03T06:00:00+01:00"
    assert listing[1]["notified_at"] is None
    assert set(listing[0]) == {
        "numero",
        "commune",
        "status",
        "transmitted_at",
        "notified_at",
        "retrieved_at",
        "retrieval_due",
        "retrieval_met",
        "purge_due",
    }
    assert "Bernard" not in initialised("demandes").out

    pdf = tmp_path / "demande.pdf"
    password = give_password(initialised, AGENT)
    shown = initialised(
        "show", "ME-2026-0000102", "--agent", AGENT, "--pdf", str(pdf), input=password
    )
    assert shown.code == 0, shown.err
    assert "Thảo Nguyễn" in shown.out and "Horaires décalés le mercredi." in shown.out
    assert pdf.read_bytes() == (SAMPLES / "ME-2026-0000102.pdf").read_bytes()
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600

    stranger = initialised("show", "ME-2026-0000102", "--agent", "inconnu@ville-corbas.fr")
    assert stranger.code == 2 and "habilitée" in stranger.err and "Nguyễn" not in stranger.out

    export = tmp_path / "export.csv"
    run = initialised(
        "export", "--agent", AGENT, "--format", "csv", "-o", str(export), input=password
    )
    assert run.code == 0 and "données personnelles" in run.err
    assert "Lefèvre-Dupont" in export.read_text(encoding="utf-8")

    verified = json.loads(initialised("audit", "verify", "--json").out)
    # the key adopted, 3 receptions, the password set, a reading, the stranger refused (as a
    # sign-in and as an access), 3 exports and the file
    assert (verified["ok"], verified["events"], verified["problems"]) == (True, 12, [])


def test_audit_verify_catches_tampering(initialised: Intake):
    initialised("ingest", SAMPLE_FEED)
    with sqlite3.connect(initialised.folder / "data" / "intake.db") as db:
        db.execute("UPDATE audit_event SET actor = 'personne@ailleurs.fr' WHERE seq = 2")
    run = initialised("audit", "verify", "--json")
    assert run.code == 1
    verified = json.loads(run.out)
    assert (verified["ok"], verified["events"], verified["first_bad"]) == (False, 1, 2)
    assert "ALTÉRÉ" in initialised("audit", "verify").out


def test_a_mixed_feed_stores_the_valid_and_names_each_refusal(initialised: Intake, tmp_path):
    bad = every_violation()
    path = write_feed(tmp_path / "depot", [Dem(numero(1)), *bad.values(), Dem(numero(2))])
    run = initialised("ingest", str(path))
    assert run.code == 1
    for code, demande in bad.items():
        line = next(x for x in run.out.splitlines() if x.startswith(demande.numero))
        assert f"refusée [{code}]" in line, line
    assert "2 intégrée(s), 0 déjà détenue(s), 10 refusée(s)" in run.out
    held = {d["numero"]: d["status"] for d in json.loads(initialised("demandes", "--json").out)}
    assert held[numero(1)] == held[numero(2)] == "received"
    assert numero(902) not in held and numero(910) not in held  # nothing kept, not even a row
    assert held[numero(904)] == "quarantined"


def test_paths_that_are_not_feeds(initialised: Intake, tmp_path):
    run = initialised("ingest", str(tmp_path / "absent.xml"), str(tmp_path))
    assert run.code == 1 and "fichier introuvable" in run.out


def test_a_feed_checked_once_its_samples_are_past_retention(initialised: Intake):
    run = initialised("ingest", SAMPLE_FEED, now="2027-05-03T08:00:00+02:00")
    assert run.code == 1
    assert "ME-2026-0000101  refusée [deja-expiree]" in run.out
    assert "ME-2026-0000103  intégrée" in run.out


def test_configuration_errors_exit_2_and_name_the_key(initialised: Intake):
    config = initialised.folder / "intake.toml"
    config.write_text(config.read_text().replace('"Europe/Paris"', '"Mars/Olympus"'))
    run = initialised("check-config")
    assert run.code == 2 and "lieu.timezone" in run.err
    assert initialised("demandes").code == 2


def test_an_unreachable_database_exits_3(initialised: Intake):
    config = initialised.folder / "intake.toml"
    config.write_text(
        config.read_text().replace(
            'url = "sqlite:///data/intake.db"',
            'url = "postgresql+psycopg://intake@127.0.0.1:1/intake?connect_timeout=2"',
        )
    )
    run = initialised("demandes")
    assert run.code == 3 and "injoignable" in run.err


def test_deadlines_per_commune(initialised: Intake, tmp_path):
    initialised("ingest", SAMPLE_FEED)
    late = every_violation()["enfant-trop-age"]  # quarantined: still to fetch by hand
    initialised("ingest", str(write_feed(tmp_path / "depot", [late])))
    items = {i["numero"]: i["state"] for i in json.loads(initialised("deadlines", "--json").out)}
    assert items == {
        "ME-2026-0000101": "late",
        "ME-2026-0000102": "late",
        "ME-2026-0000103": "met",
        late.numero: "overdue",
    }
    text = initialised("deadlines").out
    assert "1 en retard" in text and f"{late.numero}  en retard" in text


def test_ingest_says_the_files_stay_and_supprimer_deletes_those_stored(
    initialised: Intake, tmp_path
):
    """Issue 21, item 12: the families' files left in place are named, and `--supprimer`
    deletes those of the demandes stored (or already held), the XML only once all of its
    demandes are, never through a link."""
    folder = tmp_path / "depot"
    too_old = every_violation()["enfant-trop-age"]
    mixed = write_feed(folder, [Dem(numero(1)), too_old], name="a-mixte.xml")
    clean = write_feed(folder, [Dem(numero(2)), Dem(numero(3))], name="b-propre.xml")
    (folder / "notes.txt").write_text("à garder")

    first = initialised("ingest", str(folder))
    assert first.code == 1, first.out
    assert "restent en place et contiennent des données personnelles" in first.out
    assert "--supprimer" in first.out
    assert mixed.exists() and clean.exists() and (folder / f"{numero(1)}.pdf").exists()

    # A demande already held whose PDF is now a link: the link goes, never its target.
    outside = tmp_path / "ailleurs.pdf"
    outside.write_bytes(b"%PDF- autre chose")
    (folder / f"{numero(3)}.pdf").unlink()
    (folder / f"{numero(3)}.pdf").symlink_to(outside)

    second = initialised("ingest", str(folder), "--supprimer")
    assert second.code == 1, second.out
    assert "3 déjà détenue(s), 1 refusée(s)" in second.out
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{too_old.numero}.pdf",  # its demande is refused: kept, with its feed
        "a-mixte.xml",
        "notes.txt",  # no demande's file
    ]
    assert outside.read_bytes() == b"%PDF- autre chose"
    assert "4 fichiers supprimés" in second.out
    assert "Gardé :" in second.out and "a-mixte.xml" in second.out
    held = {d["numero"]: d["status"] for d in json.loads(initialised("demandes", "--json").out)}
    assert held[numero(1)] == held[numero(2)] == held[numero(3)] == "received"
