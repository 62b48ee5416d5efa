"""`intake run` for the service manager: the configuration checked, one service per SQLite
database, the start-up checks done in a process of their own, then the schedule, whose jobs
each run in a process of their own (`intake.daemon`, `intake.ops.children`). The process that
stays up never loads the pipeline, the ORM or the vault."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

from intake import config as configuration
from intake.clock import Clock
from intake.config import ConfigError
from intake.daemon import Daemon
from intake.ops.children import Children
from intake.ops.stopping import install_stop_signals
from storage.locks import single_instance


def serve(path: Path, command: list[str], clock: Clock) -> int:
    """Run the service until a stop signal; its exit status. `command` starts this program
    again with the service's configuration and journal options (a job's process)."""
    stop = threading.Event()
    install_stop_signals(stop)  # a stop during start-up (migrations...) is a clean stop too
    config = configuration.load(path)
    config.refuse_example()
    missing = config.missing_secrets()  # the service uses every one of them
    if missing:
        raise ConfigError(config.path, missing)
    with single_instance(config.database_url) as lock:
        runner = Children(command, config.text, () if lock is None else (lock,))
        code = runner.prepare()
        if stop.is_set():
            return 0
        if code != 0:
            return code
        daemon = Daemon(config, runner, clock, stop)
        code = daemon.run()
    if daemon.abandoned:
        _leave_now(code)
    return code


def _leave_now(code: int) -> None:
    """The scheduler's worker threads are joined at exit: one stuck in a system call would
    hold the process past systemd's stop timeout. Whatever it was doing is not committed, so
    it is simply done again at the next start."""
    logging.shutdown()
    sys.stdout.flush()
    os._exit(code)
