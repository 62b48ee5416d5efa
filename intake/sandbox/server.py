"""A local extranet that follows `extranet-v1.md` to the letter, for trying the worker out and
for the tests: a threaded HTTP server from the standard library, on loopback only.

Test hooks live under `/_sandbox/` (state without personal data, faults, new demandes).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import secrets
import select
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from intake.sandbox.families import feed_document
from intake.sandbox.state import PARIS, Account, SandboxState

log = logging.getLogger(__name__)

SESSION_IDLE = timedelta(minutes=30)


# Faults answered with an error: (probability field, status, code, message, Retry-After?).
REFUSALS = (
    ("maintenance", 503, "maintenance", "maintenance programmée", True),
    ("rate_limit", 429, "trop-de-requetes", "trop de requêtes", True),
    ("error500", 500, "erreur-interne", "erreur interne", False),
)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm and the client's delayed
    # ACK, every answer on a kept-alive connection would wait some 40 ms.
    disable_nagle_algorithm = True

    # --- routing -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _route(self, method: str) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        parts = path.split("/")
        if path.startswith("/_sandbox/"):
            return self._hook(method, parts[2])
        if self._transient_fault():
            return None
        if path == "/api/v1/session":
            return self._sign_in() if method == "POST" else self._sign_out()
        account = self._authenticated()
        if account is None:
            return None
        if (
            method == "GET"
            and len(parts) == 6
            and parts[3] == "communes"
            and parts[5] == "demandes"
        ):
            return self._feed(account, parts[4])
        if len(parts) == 6 and parts[3] == "demandes" and method == "GET" and parts[5] == "pdf":
            return self._pdf(account, parts[4])
        if len(parts) == 6 and parts[3] == "demandes" and parts[5] == "accuse-reception":
            return self._acknowledge(account, parts[4])
        return self._error(404, "introuvable", "chemin inconnu")

    # --- faults ------------------------------------------------------------------------------

    def _transient_fault(self) -> bool:
        state = self.server.state
        faults, rng = state.faults, random.random
        self._drain()
        if rng() < faults.reset:
            state.injected["reset"] += 1
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if rng() < faults.slow:
            state.injected["slow"] += 1
            time.sleep(faults.slow_seconds)
        for name, status, code, message, told in REFUSALS:
            if rng() < getattr(faults, name):
                state.injected[name] += 1
                headers = {"Retry-After": str(faults.retry_after)} if told else {}
                self._error(status, code, message, headers)
                return True
        return False

    # --- protocol ----------------------------------------------------------------------------

    def _sign_in(self) -> None:
        state = self.server.state
        try:
            payload = json.loads(self._body or b"{}")
            email, password = str(payload["identifiant"]), str(payload["motDePasse"])
        except (ValueError, KeyError, TypeError):
            return self._error(400, "requete-invalide", "identifiant et motDePasse attendus")
        account = state.accounts.get(email.casefold())
        with state.lock:
            state.sign_ins[email.casefold()] += 1
        if account is None or not secrets.compare_digest(account.password, password):
            return self._error(
                401, "identifiants-invalides", "identifiant ou mot de passe invalide"
            )
        if account.state == "mot-de-passe-a-changer":
            return self._error(403, "mot-de-passe-a-changer", "mot de passe à changer sur le site")
        if account.state == "compte-bloque":
            return self._error(423, "compte-bloque", "compte bloqué")
        token = secrets.token_urlsafe(24)
        expires = state.now() + SESSION_IDLE
        with state.lock:
            state.sessions[token] = (account.email.casefold(), state.now())
        return self._json(201, {"jeton": token, "expireLe": expires.isoformat()})

    def _sign_out(self) -> None:
        token = self._token()
        with self.server.state.lock:
            self.server.state.sessions.pop(token or "", None)
        self._send(204)

    def _authenticated(self) -> Account | None:
        state = self.server.state
        token = self._token()
        with state.lock:
            session = state.sessions.get(token or "")
            expired = (
                session is None
                or state.now() - session[1] > SESSION_IDLE
                or random.random() < state.faults.expire
            )
            if expired or session is None:  # (no session means expired: said again for mypy)
                if session is not None:
                    state.injected["expire"] += 1
                state.sessions.pop(token or "", None)
            else:
                state.sessions[token or ""] = (session[0], state.now())
        if expired or session is None:
            self._error(401, "session-expiree", "session expirée")
            return None
        return state.accounts[session[0]]

    def _feed(self, account: Account, insee: str) -> None:
        state = self.server.state
        if insee not in account.communes or insee not in state.communes:
            return self._error(403, "commune-non-habilitee", "compte non habilité pour la commune")
        with state.lock:
            etag = state.etag(insee)
            demandes = sorted(state.pending[insee].values(), key=lambda d: d.numero)
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, headers={"ETag": etag})
        body = feed_document(
            state.lieu_id,
            state.lieu_name,
            insee,
            state.communes[insee],
            demandes,
            state.now().astimezone(PARIS).replace(microsecond=0),
        )
        self._send(200, body, {"Content-Type": "application/xml; charset=utf-8", "ETag": etag})

    def _pdf(self, account: Account, numero: str) -> None:
        demande = self.server.state.known.get(numero)
        if demande is None or demande.commune not in account.communes:
            return self._error(404, "demande-inconnue", "demande inconnue")
        if random.random() < self.server.state.faults.truncate:
            self.server.state.injected["truncate"] += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(demande.pdf)))
            self.end_headers()
            self.wfile.write(demande.pdf[: len(demande.pdf) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        return self._send(200, demande.pdf, {"Content-Type": "application/pdf"})

    def _acknowledge(self, account: Account, numero: str) -> None:
        state = self.server.state
        demande = state.known.get(numero)
        if demande is None or demande.commune not in account.communes:
            return self._error(404, "demande-inconnue", "demande inconnue")
        if state.faults.ack_delay:
            time.sleep(state.faults.ack_delay)
            if self._client_left():
                return None  # the request never "arrived": a lost acknowledgement
        with state.lock:
            state.acknowledged[numero] += 1
            state.pending.get(demande.commune, {}).pop(numero, None)
        return self._send(204)

    # --- test hooks --------------------------------------------------------------------------

    def _hook(self, method: str, name: str) -> None:
        state = self.server.state
        if method == "GET" and name == "state":
            return self._json(200, state.public_state())
        payload = json.loads(self._read_body() or b"{}")
        if method == "POST" and name == "faults":
            try:
                state.faults.update(payload)
            except (ValueError, TypeError) as exc:
                return self._error(400, "defaut-inconnu", str(exc))
            return self._send(204)
        if method == "POST" and name == "demandes":
            made = state.add_demandes(
                int(payload.get("count", 1)),
                payload.get("commune"),
                age=timedelta(days=int(payload.get("age_days", 0))),
            )
            return self._json(201, {"numeros": [d.numero for d in made]})
        if method == "POST" and name == "accounts":
            account = state.accounts[payload["email"].casefold()]
            account.state = payload.get("state")
            account.password = payload.get("password", account.password)
            return self._send(204)
        return self._error(404, "introuvable", "crochet inconnu")

    # --- plumbing ----------------------------------------------------------------------------

    _body: bytes = b""

    def _drain(self) -> None:
        self._body = self._read_body()

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _token(self) -> str | None:
        header = self.headers.get("Authorization", "")
        return (
            header.removeprefix("Bearer ").strip() or None if header.startswith("Bearer ") else None
        )

    def _client_left(self) -> bool:
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            peeked: bytes = self.connection.recv(1, socket.MSG_PEEK)
            return peeked == b""
        except OSError:
            return True

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304 and status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and status not in (204, 304):
            self.wfile.write(body)

    def _json(self, status: int, payload: object) -> None:
        self._send(
            status,
            json.dumps(payload, ensure_ascii=False).encode(),
            {"Content-Type": "application/json"},
        )

    def _error(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps({"code": code, "message": message}, ensure_ascii=False).encode()
        self._send(status, body, {"Content-Type": "application/json", **(headers or {})})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: SandboxState


class _Server6(_Server):
    address_family = socket.AF_INET6


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now, for servers that must be told theirs (aiosmtpd checks it)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def serve(state: SandboxState, host: str = "127.0.0.1", port: int = 0) -> _Server:
    """Bind on a loopback address (never another: the sandbox is for this machine only)."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"le bac à sable n'écoute que sur une adresse locale, pas {host}")
    server = (_Server6 if ":" in host else _Server)((host, port), _Handler)
    server.state = state
    return server


def start(state: SandboxState, host: str = "127.0.0.1", port: int = 0) -> tuple[_Server, str]:
    """Serve in a background thread; returns the server and its base URL."""
    server = serve(state, host, port)
    threading.Thread(target=server.serve_forever, name="sandbox", daemon=True).start()
    shown = f"[{host}]" if ":" in host else host
    return server, f"http://{shown}:{server.server_address[1]}"
