"""The demo's lieu: its configuration (Corbas, two people, the sandbox extranet, a local SMTP
server) and that server's handler, which files every email it accepts."""

from __future__ import annotations

from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from typing import Any

AGENT = "l.feuga@ville-corbas.fr"

CONFIG = """# Configuration de démonstration écrite par « intake demo » (familles fictives).
[lieu]
id = "LI-69-0042"
name = "CCAS de Corbas"
timezone = "Europe/Paris"
phone = "04 72 51 45 00"
address = "Place de la Mairie, 69960 Corbas"

[convention]
signed_on = {signed_on}
retrieval_days = 15

[[communes]]
insee = "69273"
name = "Corbas"

[[staff]]
name = "Laetitia Feuga"
function = "Accueil / secrétariat"
email = "l.feuga@ville-corbas.fr"
duties = ["recipient", "signatory", "admin"]

[[staff]]
name = "Service informatique"
email = "dsi@ville-corbas.fr"
duties = ["admin"]

[database]
url = "sqlite:///data/intake.db"

[vault]
key_file = "secrets/master.key"

[extranet]
url = "{extranet}"
account = "l.feuga@ville-corbas.fr"
password_file = "secrets/extranet.txt"
poll_minutes = 30

[smtp]
host = "127.0.0.1"
port = {smtp_port}
sender = "intake@ville-corbas.fr"

[web]
listen = "127.0.0.1:{web_port}"
base_url = "http://127.0.0.1:{web_port}"
insecure_http = true  # une démonstration sur cette machine seulement
"""
STAFF = frozenset({AGENT, "dsi@ville-corbas.fr"})
CONSOLE_PASSWORD = "demonstration-corbas"  # noqa: S105  (the demo's console sign-in, printed)


class EmlFiler:
    """An SMTP server's handler that files each message it accepts as a .eml file: the
    staff's in the folder, the (fictitious) families' in its `familles/`."""

    def __init__(self, folder: Path, staff: frozenset[str]) -> None:
        self.folder = folder
        self.staff = staff
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        message = message_from_bytes(envelope.content, policy=email_policy.default)
        subject = str(message["Subject"] or "courriel").replace("[intake] ", "")
        name = "".join(c if c.isalnum() or c in "-_" else "-" for c in subject)[:60].strip("-")
        folder = self.folder
        if not set(envelope.rcpt_tos) <= self.staff:
            folder = self.folder / "familles"
            folder.mkdir(exist_ok=True)
        (folder / f"{self.count:02d}-{name}.eml").write_bytes(envelope.content)
        return "250 OK"
