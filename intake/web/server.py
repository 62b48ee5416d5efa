"""Serving the console with uvicorn: for `intake web` and for the end of `intake demo`."""

from __future__ import annotations

import socket
from types import FrameType

from intake.app import App


class ListenError(ValueError):
    """An address that is not HOTE:PORT, in French."""


def split_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ListenError(f"adresse d'écoute invalide : {listen} (attendu HOTE:PORT)")
    return host.strip("[]"), int(port)


def serve(app: App, listen: str) -> None:
    """Until SIGINT or SIGTERM. No access log: who opened what belongs in the audit trail,
    not in a web server's journal."""
    import uvicorn

    from intake.web.app import create_app

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            # uvicorn raises the signal again once stopped; a stop that was asked for is a
            # clean stop here (exit 0), as for `intake run`.
            self._captured_signals.clear()

    host, port = split_listen(listen)
    app.vault  # noqa: B018  (a wrong key file stops here, before the first request)
    config = uvicorn.Config(create_app(app), access_log=False, log_level="warning")
    Server(config).run(sockets=[listening_socket(host, port)])


def listening_socket(host: str, port: int) -> socket.socket:
    """The console's socket, with TCP_NODELAY: without it, a page waits some 40 ms for the
    delayed acknowledgement of its first segment (measured in bench/console.py)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind((host, port))
    return listener
