"""Six months on, as the lieu lives it: purge, attestation, signature, end of the convention;
and a raw read of every file the worker wrote finds no trace of a destroyed family."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from intake.sandbox.certificates import signatory
from tests.e2e.conftest import Intake, Run, give_password
from tests.support.feeds import PERSONAL, SAMPLES
from tests.support.poppler import poppler

AGENT = "l.feuga@ville-corbas.fr"
SAMPLE_FEED = str(SAMPLES / "flux-69273-corbas.xml")
BEFORE_MAY = "2027-04-30T20:00:00+02:00"
MAY_FIRST = "2027-05-01T03:00:00+02:00"  # the samples' purge days: 3, 6 and 10 May 2027
SIGNING = "2027-05-04T10:00:00+02:00"


def secrets_held(database: Path) -> list[bytes]:
    """Slices of every wrapped key and ciphertext: with the master key, the families' data."""
    return keys_held(database) + ciphertexts_held(database)


def keys_held(database: Path) -> list[bytes]:
    """Slices of every wrapped data key: what crypto-shredding must leave nowhere."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT wrapped_key FROM demande_key").fetchall()
    return [bytes(value)[12:44] for (value,) in rows]


def ciphertexts_held(database: Path) -> list[bytes]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT ciphertext FROM demande_blob").fetchall()
    return [bytes(value)[12:44] for (value,) in rows]


def files_written(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_purge_leaves_no_trace_and_the_attestation_is_signed(initialised: Intake, tmp_path):
    assert initialised("ingest", SAMPLE_FEED, "--agent", AGENT).code == 0
    database = initialised.folder / "data" / "intake.db"
    secrets = secrets_held(database)
    assert len(secrets) == 12  # per demande: its wrapped key, its record, XML and PDF
    keys = keys_held(database)

    nothing = initialised("purge", "--dry-run", now=BEFORE_MAY)
    assert nothing.code == 0 and "rien ne serait détruit" in nothing.out
    planned = initialised("purge", "--dry-run", "--json", now=MAY_FIRST)
    assert [p["numero"] for p in json.loads(planned.out)["would_purge"]] == [
        "ME-2026-0000101",
        "ME-2026-0000102",
        "ME-2026-0000103",
    ]
    assert secrets_held(database) == secrets  # a dry run changes nothing

    purge = initialised("-v", "purge", "--json", now=MAY_FIRST)
    assert purge.code == 0, purge.err
    assert json.loads(purge.out) == {"purged": 3, "attestation": 1, "next_purge": None}
    assert secrets_held(database) == [] and keys_held(database) == []

    files = files_written(initialised.folder)
    assert any(name.endswith("intake.db") for name in files)
    for name, content in files.items():
        # No byte of a data key survives anywhere (its pages were zeroed): what may remain of
        # the ciphertexts in free pages can never be decrypted again.
        for key in keys:
            assert key not in content, name
        for personal in PERSONAL:
            assert personal.encode() not in content, (name, personal)
    for output in (purge.out, purge.err):
        assert not any(personal in output for personal in PERSONAL)
    with sqlite3.connect(database) as connection:
        outbox = " ".join(
            " ".join(row)
            for row in connection.execute(
                "SELECT subject, text_body, html_body FROM outbox_message"
            )
        )
        tombstone = connection.execute(
            "SELECT status, purge_reason, attestation_id FROM demande ORDER BY numero"
        ).fetchall()
    assert "Attestation de destruction n° 1 à signer avant le 03/06/2027" in outbox
    assert not any(personal in outbox for personal in PERSONAL)
    assert tombstone == [("purged", "conservation-6-mois", 1)] * 3

    listing = json.loads(initialised("attestations", "--json", now=SIGNING).out)
    assert [(a["id"], a["demandes"], a["sign_by"], a["state"]) for a in listing] == [
        (1, 3, "2027-06-03", "pending")
    ]
    status = json.loads(initialised("status", "--json", now=SIGNING).out)
    assert status["attestations_pending"] == 1

    password = give_password(initialised, AGENT)
    signed = sign_with_a_demo_certificate(initialised, "Laetitia Feuga", AGENT, tmp_path, password)
    assert signed.code == 0, signed.err
    assert "signée électroniquement par l.feuga@ville-corbas.fr" in signed.out
    shown = initialised("attestation", "show", "1", "-o", str(tmp_path / "a1.pdf"), now=SIGNING)
    assert shown.code == 0
    _pdfsig_validates(tmp_path / "a1.pdf")
    text = poppler("pdftotext", tmp_path / "a1.pdf", "-")
    assert "ME-2026-0000102" in text and "Corbas" in text and "03/06/2027" in text
    assert json.loads(initialised("status", "--json", now=SIGNING).out)["attestations_pending"] == 0
    assert initialised("audit", "verify", now=SIGNING).code == 0


def test_a_non_signatory_cannot_sign(initialised: Intake, tmp_path):
    initialised("ingest", SAMPLE_FEED)
    initialised("purge", now=MAY_FIRST)
    refused = sign_with_a_demo_certificate(initialised, "Intrus", "intrus@example.org", tmp_path)
    assert refused.code == 2
    assert "n'est pas signataire habilité" in refused.err
    listing = json.loads(initialised("attestations", "--json", now=SIGNING).out)
    assert listing[0]["state"] == "pending"


def test_end_of_the_convention_destroys_everything_and_takes_nothing_more(initialised: Intake):
    assert initialised("ingest", SAMPLE_FEED).code == 0
    unconfirmed = initialised("convention", "end", "--agent", AGENT)  # no terminal, no --yes
    assert unconfirmed.code == 2 and "--yes" in unconfirmed.err
    assert {d["status"] for d in json.loads(initialised("demandes", "--json").out)} != {"purged"}
    ended = initialised(
        "convention", "end", "--agent", AGENT, "--yes", input=give_password(initialised, AGENT)
    )
    assert ended.code == 0, ended.err
    assert "3 demande(s) détruite(s)" in ended.out
    assert "attestation n° 1" in ended.out
    listing = json.loads(initialised("demandes", "--json").out)
    assert {d["status"] for d in listing} == {"purged"}
    attestation = json.loads(initialised("attestations", "--json").out)[0]
    assert attestation["sign_by"] == "2026-12-23"  # within the month after the end
    again = initialised("ingest", SAMPLE_FEED)
    assert again.code == 2 and "la convention a pris fin le 23/11/2026" in again.err
    assert initialised("run").code == 2


def sign_with_a_demo_certificate(
    intake: Intake, name: str, email: str, folder: Path, password: str = ""
) -> Run:
    """`intake attestation sign 1` with a certificate of the demo CA made for `email`, the
    signer's console `password` on standard input."""
    certificate = signatory(name, email, datetime.fromisoformat(SIGNING))
    (folder / "signataire.p12").write_bytes(certificate.pkcs12)
    intake.env["INTAKE_PKCS12_PASSPHRASE"] = "demo"
    pkcs12 = str(folder / "signataire.p12")
    return intake(
        "attestation", "sign", "1", "--signer", email, "--pkcs12", pkcs12, now=SIGNING,
        input=password,
    )  # fmt: skip


def _pdfsig_validates(pdf: Path) -> None:
    report = poppler("pdfsig", pdf)
    assert "Signature is Valid." in report and "Total document signed" in report


def test_after_the_end_the_calendar_asks_for_the_final_attestation(initialised: Intake):
    assert initialised("ingest", SAMPLE_FEED).code == 0
    password = give_password(initialised, AGENT)
    assert initialised("convention", "end", "--agent", AGENT, "--yes", input=password).code == 0
    run = initialised("calendar")
    assert run.code == 0 and "l'attestation finale n° 1 est à signer" in run.out
    assert "reconduction" not in run.out


def test_an_interrupted_end_is_completed_by_running_it_again(initialised: Intake):
    """Killed right after the end was recorded (before any destruction), the same command
    completes it; once complete, it refuses to run twice (issue 15, defect 2)."""
    from intake import config as configuration
    from intake.app import App
    from intake.clock import FixedClock
    from storage import attestations as attestation_store
    from storage.db import transaction
    from tests.support.lieu import NOW

    assert initialised("ingest", SAMPLE_FEED).code == 0
    app = App(configuration.load(initialised.folder / "intake.toml"), FixedClock(NOW))
    vault = app.vault
    with transaction(app.engine) as session:  # the first of its transactions, and no more
        attestation_store.end_convention(session, NOW, AGENT)
        vault.trail.record(session, at=NOW, actor=AGENT, action="fin-de-convention")
    app.engine.dispose()

    password = give_password(initialised, AGENT)
    resumed = initialised("convention", "end", "--agent", AGENT, "--yes", input=password)
    assert resumed.code == 0, resumed.err
    assert "3 demande(s) détruite(s)" in resumed.out and "attestation n° 1" in resumed.out
    assert {d["status"] for d in json.loads(initialised("demandes", "--json").out)} == {"purged"}
    again = initialised("convention", "end", "--agent", AGENT, "--yes", input=password)
    assert again.code == 2 and "déjà pris fin" in again.err
    assert initialised("audit", "verify").code == 0


def test_record_signed_takes_a_scan_of_this_attestation_and_nothing_else(
    initialised: Intake, tmp_path
):
    """Issue 25: `record-signed` took a family's demande PDF and sent it to the Caf."""
    from tests.support.scans import needs_zbar, scanned

    needs_zbar()
    assert initialised("ingest", SAMPLE_FEED).code == 0
    assert initialised("purge", now=MAY_FIRST).code == 0
    password = give_password(initialised, AGENT)
    family = initialised(
        "attestation", "record-signed", "1", "--signer", AGENT,
        "--file", str(SAMPLES / "ME-2026-0000101.pdf"), now=SIGNING, input=password,
    )  # fmt: skip
    assert family.code != 0 and "ne porte pas le code de l'attestation n° 1" in family.err
    assert json.loads(initialised("attestations", "--json", now=SIGNING).out)[0]["state"] == (
        "pending"
    )
    draft = tmp_path / "projet.pdf"
    assert initialised("attestation", "show", "1", "-o", str(draft), now=SIGNING).code == 0
    copy = tmp_path / "scan.pdf"
    copy.write_bytes(scanned(draft.read_bytes(), dpi=300, angle=2.0))
    recorded = initialised(
        "attestation", "record-signed", "1", "--signer", AGENT, "--file", str(copy),
        now=SIGNING, input=password,
    )  # fmt: skip
    assert recorded.code == 0, recorded.err
    assert "signée à la main par l.feuga@ville-corbas.fr" in recorded.out
    kept = tmp_path / "kept.pdf"
    assert initialised("attestation", "show", "1", "-o", str(kept), now=SIGNING).code == 0
    assert kept.read_bytes() == copy.read_bytes()
