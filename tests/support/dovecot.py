"""A private dovecot IMAP server on loopback for the tests (Debian's dovecot-imapd).

Each instance has its own configuration, users and maildirs in a temporary
folder, and is stopped at the end. `.ci/run` (and `scripts/test-services`)
install the package.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BINARY = shutil.which("dovecot") or "/usr/sbin/dovecot"
MAIL_USER = "nobody"  # dovecot refuses mail access as root


def available() -> bool:
    return Path(BINARY).exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    def __init__(self, users: dict[str, str], tls: tuple[str, str] | None = None) -> None:
        """`tls`: (certificate, key) files; then IMAPS listens too and STARTTLS is offered."""
        self.users = users
        self.tls = tls
        self.imaps_port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="intake-dovecot-"))
        self.root.chmod(0o755)
        self.port = _free_port()
        self.lmtp_port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        account = pwd.getpwnam(MAIL_USER)
        mail = self.root / "mail"
        mail.mkdir()
        os.chown(mail, account.pw_uid, account.pw_gid)
        (self.root / "users").write_text(
            "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in self.users.items())
        )
        # Dovecot's auth process (user dovecot) reads it, whatever umask the worker set in
        # this test process (077 once `intake` has run in it).
        (self.root / "users").chmod(0o644)
        config = self.root / "dovecot.conf"
        config.write_text(f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap lmtp
postmaster_address = postmaster@localhost
listen = 127.0.0.1
{self._ssl_settings()}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = {account.pw_uid}
last_valid_uid = {account.pw_uid}
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid={account.pw_uid} gid={account.pw_gid} home={mail}/%u allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port if self.tls else 0}
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
        self.process = subprocess.Popen(
            [BINARY, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"dovecot stopped: {self.process.stderr.read().decode()}{self.log()}"
                )
            if self._ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"dovecot did not start: {self.log()}")

    def _ready(self) -> bool:
        """Ready once a user can log in: the port opens before the auth service answers
        (a login then gets "Temporary authentication failure")."""
        try:
            client = imaplib.IMAP4("127.0.0.1", self.port, timeout=2)
        except OSError:
            return False
        try:
            if self.users:
                user, password = next(iter(self.users.items()))
                client.login(user, password)
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            return False
        return True

    def _ssl_settings(self) -> str:
        if self.tls is None:
            return "ssl = no"
        certificate, key = self.tls
        return f"ssl = yes\nssl_cert = <{certificate}\nssl_key = <{key}"

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver an email as the MTA would (IMAP APPEND), unread."""
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(user, self.users[user])
        client.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
        client.logout()

    def flags(self, user: str, folder: str = "INBOX") -> list[bytes]:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(user, self.users[user])
        client.select(folder, readonly=True)
        _, data = client.fetch("1:*", "(FLAGS)")
        client.logout()
        return [d for d in data if d]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)
