"""`intake demo` end to end, as a newcomer runs it: every artefact it promises is there."""

from __future__ import annotations

import email
import json
import shutil
from collections import Counter
from datetime import date, timedelta
from email import policy
from pathlib import Path

from tests.e2e.conftest import INTAKE_SCRIPT, Intake
from tests.support.feeds import PERSONAL
from tests.support.poppler import poppler


def test_the_demo_shows_the_whole_cycle(intake: Intake):
    before = date.today()  # the demo runs in real time: its story ends on the real today
    run = intake("demo", "exemple", script=True)
    after = date.today()
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
    # The story's past stays visible; the console opens on the current weeks' demandes.
    listing = json.loads(intake("-c", "exemple/intake.toml", "demandes", "--json").out)
    statuses = Counter(d["status"] for d in listing)
    assert statuses == {"purged": 5, "received": 7, "notified": 3}
    owed = sorted(
        date.fromisoformat(d["retrieval_due"]) for d in listing if d["status"] == "notified"
    )
    assert owed[0] < after and before <= owed[1] <= owed[2] <= after + timedelta(days=7)
    assert all(
        before - timedelta(days=21) <= date.fromisoformat(d["transmitted_at"][:10]) <= after
        for d in listing
        if d["status"] != "purged"
    )
    assert "Aujourd'hui : 7 demandes détenues (une traitée)" in run.out
    (family,) = (folder / "courriels" / "familles").glob("*.eml")
    letter = email.message_from_bytes(family.read_bytes(), policy=policy.default)
    assert letter["To"].addresses[0].domain == "example.org" and len(letter["To"].addresses) == 1
    assert "Laetitia Feuga" in letter.get_content()
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
