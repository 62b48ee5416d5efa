"""Each job of `intake run` in a process of its own: started, told to stop, or ended.

The service's scheduler stays small (a few dozen MiB) by never loading what the jobs need: a
job is `intake … run --tache NOM`, the same program with the same journal options, which
builds the app, does its one thing and exits (`intake.ops.duties`). Its exit status says how
it went: 0 done, NEWS done and the staff have news to hear, anything else a failure (logged
by the job itself, by its exception's type).

A job works with the configuration the service read and checked at start (its text is handed
over, `CONFIG_ENV`): an edit of the file takes effect at the next start or reload, never
halfway. On SQLite the job inherits the service's lock on the database (`single_instance`):
no second service starts while a job of the first is still at work.

At most `AT_ONCE` jobs run at a time besides the emails' pass, which has a turn of its own:
at start-up every job is due at once, and eight processes of some 80 MiB each would pass the
unit's `MemoryMax`; the others wait their turn.

A job dies with the scheduler: the kernel sends it SIGTERM if the scheduler is killed
(`PR_SET_PDEATHSIG`), and it then stops as on any stop request, the demande under way
finished, nothing acknowledged that is not stored.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from intake.config import Config
from intake.ops.job_names import CONFIG_ENV, NEWS, PARENT_ENV, PREPARATION

log = logging.getLogger("intake.daemon")

AT_ONCE = 2  # jobs running at the same time, each in its process, besides the emails' pass
MAIL = "courriels"
_PR_SET_PDEATHSIG = 1


def program(entry_point: bool) -> list[str]:
    """How to start this same program again: the way this process was started, up to its own
    arguments (the console script, `python -m intake`, or a launcher), or `python -m intake`
    when the command runs inside another program (a test calling `intake.cli.main`)."""
    if not entry_point:
        return [sys.executable, "-m", "intake"]
    return sys.orig_argv[: len(sys.orig_argv) - len(sys.argv) + 1]


def options(config: Path, verbose: bool, as_json: bool) -> list[str]:
    """The global options a job gets from the scheduler: its configuration and its journal."""
    return ["--config", str(config)] + ["-v"] * verbose + ["--log-json"] * as_json


def job_config(path: Path) -> Config:
    """In a job: the configuration as the service read it at start (its relative paths still
    relative to the file's folder); read from the file when run by hand."""
    from intake import config as configuration

    text = os.environ.get(CONFIG_ENV)
    return configuration.load(path) if text is None else configuration.parse(text, path)


def bind_to_parent() -> None:
    """In a job: die (by SIGTERM, so cleanly) with the scheduler that started it. The parent
    may have died before the binding: then stop at once."""
    expected = os.environ.get(PARENT_ENV)
    if expected is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if str(os.getppid()) != expected:
        os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class Children:
    """Runs the jobs as processes; `interrupt` and `abandon` reach every one under way."""

    command: Sequence[str]  # the program and its global options, up to the command
    config_text: str  # the configuration as the service read it
    lock_fds: tuple[int, ...] = ()  # the service's lock on an SQLite database, shared
    _live: set[subprocess.Popen[bytes]] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _slots: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(AT_ONCE)
    )
    _mail_slot: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(1)
    )
    _stopping: bool = False

    def __call__(self, *names: str, env: Mapping[str, str] | None = None) -> bool:
        """Run these jobs, in order, in a process of their own until it ends (with `env` added
        to its environment); whether there is news."""
        code = self._wait(names, env or {})
        if code not in (0, NEWS, 1, None) and not self._stopping:
            log.error(
                "tâche %s : processus terminé anormalement (statut %s)", ", ".join(names), code
            )
        return code == NEWS

    def prepare(self) -> int:
        """The start-up checks (database, migrations, key, convention) in a process of their
        own; its exit status, 0 when the service may start. What it says is said here."""
        with subprocess.Popen(
            [*self.command, "run", "--tache", PREPARATION],
            env=self._environment({}),
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        ) as child:
            assert child.stderr is not None
            for line in child.stderr:  # as it comes: a long migration says so at once
                sys.stderr.write(line)
                sys.stderr.flush()
        return child.returncode

    def interrupt(self) -> None:
        """Ask every job under way to stop (the demande under way is finished), and start no
        new one."""
        with self._lock:
            self._stopping = True
            for child in self._live:
                _signal(child, signal.SIGTERM)

    def abandon(self) -> None:
        """The grace period is over: end the jobs still running. Nothing they hold is
        committed and unacknowledged; what they were doing is done again at the next start."""
        with self._lock:
            for child in self._live:
                _signal(child, signal.SIGKILL)

    def _environment(self, env: Mapping[str, str]) -> dict[str, str]:
        parent = {PARENT_ENV: str(os.getpid()), CONFIG_ENV: self.config_text}
        return {**os.environ, **parent, **env}

    def _wait(self, names: Sequence[str], env: Mapping[str, str]) -> int | None:
        """The job's exit status, or None if the service is stopping and it was not started."""
        slots = self._mail_slot if tuple(names) == (MAIL,) else self._slots
        while not slots.acquire(timeout=0.5):  # its turn, unless the service stops
            if self._stopping:
                return None
        try:
            with self._lock:
                if self._stopping:
                    return None
                child = subprocess.Popen(
                    [*self.command, "run", *(f"--tache={name}" for name in names)],
                    env=self._environment(env),
                    stdin=subprocess.DEVNULL,
                    pass_fds=self.lock_fds,
                )
                self._live.add(child)
            try:
                return child.wait()
            finally:
                with self._lock:
                    self._live.discard(child)
        finally:
            slots.release()


def _signal(child: subprocess.Popen[bytes], signum: int) -> None:
    try:
        child.send_signal(signum)
    except ProcessLookupError:  # it ended meanwhile
        pass
