"""`intake backup` and `intake restore` as the IT person runs them, and a copy put back by hand
with the clock set back, as an attacker would: nothing destroyed reads again."""

from __future__ import annotations

import shutil
import sqlite3
import stat

from tests.e2e.conftest import Intake, give_password
from tests.support.feeds import SAMPLES

SAMPLE_FEED = str(SAMPLES / "flux-69273-corbas.xml")  # purge days 3, 6 and 10 May 2027
AGENT = "l.feuga@ville-corbas.fr"
PURGE_DAY = "2027-05-01T04:00:00+02:00"
PASSPHRASE = "une phrase de passe assez longue\n"


def test_backup_purge_restore_then_the_attackers_way(initialised: Intake):
    password = give_password(initialised, AGENT)
    assert initialised("ingest", SAMPLE_FEED).code == 0
    copy = initialised.folder / "copie.db"
    made = initialised("backup", "-o", str(copy))
    assert made.code == 0, made.err
    assert "aucune clé" in made.out and stat.S_IMODE(copy.stat().st_mode) == 0o600
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT count(*) FROM demande_key WHERE key_date IS NULL").fetchone() == (
            0,
        )
        assert db.execute("SELECT count(*) FROM demande_key").fetchone()[0] == 3
    keys = initialised(
        "backup", "--cles", "-o", "cles.bin", "--agent", AGENT, input=password + PASSPHRASE
    )
    assert keys.code == 0, keys.err
    assert "À détruire au plus tard le 23/12/2026" in keys.out  # a month from NOW

    purged = initialised("purge", now=PURGE_DAY)
    assert purged.code == 0, purged.err
    restored = initialised("restore", str(copy), "--agent", AGENT, now=PURGE_DAY, input=password)
    assert restored.code == 0, restored.err
    assert "3 demande(s) détruite(s) depuis la copie l'ont été à nouveau" in restored.out
    again = initialised("restore", "--cles", "cles.bin", now=PURGE_DAY, input=PASSPHRASE)
    assert again.code == 0 and "3 clé(s) non remise(s)" in again.out

    live = initialised.folder / "data" / "intake.db"
    for leftover in (live.with_name("intake.db-wal"), live.with_name("intake.db-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(copy, live)  # by hand: no reconciliation, and the clock set back
    shown = initialised("show", "ME-2026-0000102", "--agent", AGENT, input=password)
    assert shown.code == 2 and "détruite" in shown.err
    assert "Nguyễn" not in shown.out + shown.err
    wrong = initialised("restore", str(copy), "--agent", AGENT, input="pas le bon\n")
    assert wrong.code == 2  # who restores proves it, as the console asks
