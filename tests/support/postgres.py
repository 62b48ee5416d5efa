"""A PostgreSQL server of the test's own (Debian's binaries, a data folder in a temporary
directory, a Unix socket and no TCP port), for the tests that stop or restart their server:
the machine's shared server goes on serving the other tests, run in parallel."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support.required import missing

SERVER_USER = "postgres"  # initdb refuses to run as root


def _binaries() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


class PrivatePostgres:
    def __init__(self) -> None:
        binaries = _binaries()
        if binaries is None:
            missing(
                "PostgreSQL's initdb and pg_ctl", "apt install postgresql (scripts/test-services)"
            )
        self.bin = binaries
        self.root = Path(tempfile.mkdtemp(prefix="intake-pg-"))
        self.data = self.root / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self.as_user = ["runuser", "-u", SERVER_USER, "--"]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@/postgres?host={self.root}"

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self.as_user, *command], check=True, capture_output=True, timeout=120, cwd=self.root
        )

    def _pg_ctl(self, action: str) -> None:
        log = self.root / "server.log"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-w", "-m",
                  "fast", action)  # fmt: skip

    def start(self) -> PrivatePostgres:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "--no-sync", "--no-instructions",
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                f"listen_addresses = ''\nunix_socket_directories = '{self.root}'\n"
                "fsync = off\nshared_buffers = 16MB\n"
            )
        self._pg_ctl("start")
        return self

    def restart(self) -> None:
        """As `pg_ctlcluster ... restart` does: a fast shutdown (sessions cut), then a start."""
        self._pg_ctl("restart")

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._pg_ctl("stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
