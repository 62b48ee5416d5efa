"""The stop requests of the service manager (SIGTERM) and of a terminal (SIGINT), as an event
that the scheduler and each job's process watch."""

from __future__ import annotations

import signal
import threading
from types import FrameType


def install_stop_signals(stop: threading.Event) -> None:
    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
