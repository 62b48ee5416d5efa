"""`intake demo` end to end, as a newcomer runs it: every artefact it promises is there."""

from __future__ import annotations

import email
import json
import shutil
from email import policy
from pathlib import Path

from tests.e2e.conftest import INTAKE_SCRIPT, Intake
from tests.support.feeds import PERSONAL
from tests.support.poppler import poppler


def test_the_demo_shows_the_whole_cycle(intake: Intake):
    run = intake("demo", "exemple", script=True)
    assert run.code == 0, run.err
    folder = intake.folder / "exemple"
    assert "Six mois ont passé : 5 demande(s) détruite(s)" in run.out
    assert "signe l'attestation n° 1" in run.out
    # The hints name the command as the newcomer can type it: `intake` once the environment
    # is activated, else the script's own path (`.venv/bin/intake` from the checkout).
    on_path = shutil.which("intake", path=intake.env.get("PATH"))
    typed = "intake" if on_path and Path(on_path) == INTAKE_SCRIPT else str(INTAKE_SCRIPT)
    assert f"La console web : {typed} -c" in run.out and "demonstration-corbas" in run.out
    assert f"Pour explorer : {typed} -c" in run.out
    mails = sorted((folder / "courriels").glob("*.eml"))
    subjects = [
        str(email.message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"])
        for p in mails
    ]
    assert any("4 nouvelles demandes" in s for s in subjects)
    assert any("Récupération en retard" in s for s in subjects)
    assert any("Attestation de destruction n° 1" in s for s in subjects)
    report_mail = next(p for p, s in zip(mails, subjects, strict=True) if "Rapport mensuel" in s)
    attached = email.message_from_bytes(report_mail.read_bytes(), policy=policy.default)
    names = {part.get_filename() for part in attached.iter_attachments()}
    assert any(n.endswith(".pdf") for n in names) and any(n.endswith(".csv") for n in names)
    for path in mails:
        assert not any(p.encode() in path.read_bytes() for p in PERSONAL)

    assert (folder / "attestations" / "attestation-1-signee.pdf").exists()
    assert sorted(p.name for p in (folder / "rapports").glob("*.pdf"))
    listing = json.loads(intake("-c", "exemple/intake.toml", "demandes", "--json").out)
    assert {d["status"] for d in listing} == {"purged"}
    states = json.loads(intake("-c", "exemple/intake.toml", "attestations", "--json").out)
    assert [s["state"] for s in states] == ["signed"]
    assert intake("-c", "exemple/intake.toml", "audit", "verify").code == 0
    report = poppler("pdfsig", folder / "attestations" / "attestation-1-signee.pdf")
    assert "Signature is Valid." in report

    again = intake("demo", "exemple", script=True)  # a demo folder is replaced, not piled up
    assert again.code == 0
    (intake.folder / "mien").mkdir()
    (intake.folder / "mien" / "notes.txt").write_text("à moi")
    refused = intake("demo", "mien", script=True)
    assert refused.code == 2 and "dossier neuf" in refused.err
