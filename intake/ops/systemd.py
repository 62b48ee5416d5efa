"""Telling systemd how the service is (`Type=notify`): ready, alive (`WatchdogSec=`),
stopping. A few lines over the socket systemd names in NOTIFY_SOCKET (sd_notify(3));
nothing happens when the service is not run by systemd."""

from __future__ import annotations

import os
import socket

EXIT_RELOAD = 75  # SIGHUP: a clean stop that systemd answers with a restart (new config)


def notify(*states: str) -> bool:
    """Send `READY=1`, `WATCHDOG=1`, `STOPPING=1`, `STATUS=…`; True if systemd listens."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as channel:
        try:
            channel.sendto("\n".join(states).encode("utf-8"), address)
        except OSError:
            return False
    return True
