"""Client of the partner extranet, protocol `extranet-v1.md`.

Every path and field name of the protocol is in this module, so that another
interface can replace it without touching the rest. The client signs in with
the identifiers of one named habilitated person, never a shared account.

Transient faults (5xx, time-outs, resets, truncated bodies, a PDF whose size
or digest differs) are retried by tenacity with exponential backoff and
jitter, bounded in attempts and time; `Retry-After` is obeyed when it is
short, and reported to the caller when it is not (maintenance). Account
errors are never retried: a wrong password tried again would lock the account.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import urllib3
from tenacity import (
    RetryCallState,
    Retrying,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from intake.clock import SystemClock
from intake.feed.model import DocumentPdf
from intake.feed.pdf import MAX_PDF_BYTES
from intake.sources.extranet_errors import (
    ACCOUNT_CODES,
    MESSAGES,
    AccountError,
    CommuneRefused,
    ExtranetError,
    SessionExpired,
    TransientError,
    UnknownDemande,
)

log = logging.getLogger(__name__)
_T = TypeVar("_T")

SESSION = "/api/v1/session"
FEED = "/api/v1/communes/{insee}/demandes"
PDF = "/api/v1/demandes/{numero}/pdf"
ACKNOWLEDGE = "/api/v1/demandes/{numero}/accuse-reception"
MAX_FEED_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    total_seconds: float = 60.0
    initial_wait: float = 0.5
    max_wait: float = 8.0
    # A Retry-After longer than this is not waited for inside one pass: the next pass will come.
    longest_retry_after: float = 30.0


@dataclass(frozen=True)
class Limits:
    """What one answer may cost. A hostile or broken server gets no more than this: bodies are
    capped while they stream, and a server dripping one byte at a time is dropped at the
    deadline, not when it chooses to stop."""

    small_body: int = 64 * 1024  # sign-in answers and error bodies: a few hundred bytes
    feed_body: int = MAX_FEED_BYTES
    pdf_body: int = MAX_PDF_BYTES
    connect_seconds: float = 5.0
    read_seconds: float = 10.0  # silence on the socket; a drip is caught by `request_seconds`
    request_seconds: float = 120.0  # one request, from sending it to the body's last byte


@dataclass(frozen=True)
class Feed:
    changed: bool
    etag: str | None
    content: bytes = b""


def _retry_after(response: requests.Response, now: Callable[[], datetime]) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now()).total_seconds())


class ExtranetClient:
    def __init__(
        self,
        base_url: str,
        account: str,
        password: str,
        *,
        ca_bundle: str | None = None,
        limits: Limits | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.account = account
        self._password = password
        self._limits = limits or Limits()
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._now = now or SystemClock().now
        self._stop = stop or threading.Event()
        self._token: str | None = None
        # Monotonic instant after which nothing more is asked (a commune's pass): see `deadline`.
        self._pass_deadline: float | None = None
        self._http = requests.Session()
        # The environment (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE) is read once, here:
        # requests would otherwise walk os.environ again for every PDF and acknowledgement.
        self._http.trust_env = False
        self._http.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        self._http.verify = (
            ca_bundle
            or os.environ.get("REQUESTS_CA_BUNDLE")
            or os.environ.get("CURL_CA_BUNDLE")
            or True
        )
        self._http.headers["User-Agent"] = "monenfant-intake"
        # No compression: a capped body is then capped in bytes on the wire too (no bomb).
        self._http.headers["Accept-Encoding"] = "identity"
        self.requests_made = 0

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Every request made inside ends by `seconds` from now (one commune's pass)."""
        self._pass_deadline = time.monotonic() + seconds
        try:
            yield
        finally:
            self._pass_deadline = None

    def overdue(self) -> bool:
        """The pass's deadline has come: what is left waits for the next pass."""
        return self._pass_deadline is not None and time.monotonic() > self._pass_deadline

    # --- protocol calls ----------------------------------------------------------------------

    def sign_in(self) -> None:
        """Transient faults are retried; a refused account never is (it would lock)."""

        def attempt() -> None:
            response = self._send(
                "POST",
                SESSION,
                authenticated=False,
                json={"identifiant": self.account, "motDePasse": self._password},
            )
            body = self._body(response, self._limits.small_body)
            if response.status_code != 201:
                raise self._error(response, body)
            try:
                self._token = json.loads(body)["jeton"]
            except (ValueError, KeyError, TypeError):
                raise TransientError("réponse de connexion illisible") from None
            if not isinstance(self._token, str):
                self._token = None
                raise TransientError("réponse de connexion illisible")

        self._retrying(attempt)

    def sign_out(self) -> None:
        if self._token is None:
            return
        try:
            response = self._send("DELETE", SESSION)
            self._body(response, self._limits.small_body)
        except ExtranetError:
            log.info("sign-out failed; the session will expire by itself")
        finally:
            self._token = None
            self._http.close()

    def feed(self, insee: str, etag: str | None) -> Feed:
        headers = {"If-None-Match": etag} if etag else {}
        response, content = self._call(
            "GET", FEED.format(insee=insee), self._limits.feed_body, headers=headers
        )
        if response.status_code == 304:
            return Feed(changed=False, etag=etag)
        return Feed(changed=True, etag=response.headers.get("ETag"), content=content)

    def pdf(self, numero: str, document: DocumentPdf) -> bytes:
        """The PDF, retried while its size or SHA-256 differs from its declaration; after the
        last attempt, whatever came (at most one byte past the declared size) for the rules."""
        last: list[bytes] = []
        limit = min(document.taille + 1, self._limits.pdf_body + 1)

        def fetch() -> bytes:
            _, content = self._call("GET", PDF.format(numero=numero), limit, retry=False)
            last[:] = [content]
            if (
                len(content) != document.taille
                or hashlib.sha256(content).hexdigest() != document.sha256
            ):
                raise TransientError("PDF tronqué ou différent de sa déclaration")
            return content

        try:
            return self._retrying(fetch)
        except TransientError:
            if last:
                return last[0]
            raise

    def acknowledge(self, numero: str) -> None:
        response, _ = self._call("POST", ACKNOWLEDGE.format(numero=numero), self._limits.small_body)
        if response.status_code != 204:
            raise self._error(response, b"")

    # --- plumbing ----------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, limit: int, *, retry: bool = True, **kwargs: Any
    ) -> tuple[requests.Response, bytes]:
        """One protocol call and its body: retried when transient, signed in again once if the
        session expired (a second expiry in a row is a transient fault, never a crash)."""

        def attempt() -> tuple[requests.Response, bytes]:
            try:
                return self._checked(method, path, limit, **kwargs)
            except SessionExpired:
                log.info("session expired; signing in again once")
            self.sign_in()
            try:
                return self._checked(method, path, limit, **kwargs)
            except SessionExpired as exc:
                raise TransientError(str(exc), code=exc.code, status=exc.status) from None

        return self._retrying(attempt) if retry else attempt()

    def _checked(
        self, method: str, path: str, limit: int, **kwargs: Any
    ) -> tuple[requests.Response, bytes]:
        response = self._send(method, path, **kwargs)
        # An error body is small whatever the call: a feed's cap is no licence for its errors.
        body = self._body(
            response, limit if response.status_code < 400 else self._limits.small_body
        )
        if response.status_code >= 400:
            raise self._error(response, body)
        return response, body

    def _remaining(self) -> float:
        """Seconds left for a request begun now: its own limit, or less if the pass ends."""
        if self._stop.is_set():
            raise TransientError("arrêt demandé", code="arret")
        remaining = self._limits.request_seconds
        if self._pass_deadline is not None:
            remaining = min(remaining, self._pass_deadline - time.monotonic())
            if remaining <= 0:
                raise TransientError(
                    "délai de récupération de la commune dépassé", code="delai-depasse"
                )
        return remaining

    def _send(
        self, method: str, path: str, *, authenticated: bool = True, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if authenticated and self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        remaining = self._remaining()
        self.requests_made += 1
        read = min(self._limits.read_seconds, remaining)
        try:
            response = self._http.request(
                method,
                self.base_url + path,
                headers=headers,
                timeout=(min(self._limits.connect_seconds, remaining), read),
                # Every call carries the password or the token: a redirect would hand them to
                # whichever host it names. It is an error, never followed.
                allow_redirects=False,
                stream=True,
                **kwargs,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"extranet injoignable ({type(exc).__name__})") from None
        # The response carries its deadline to _body, which reads it wherever it is handed:
        # attributes of our own on requests' Response, which does not declare them.
        response.started = time.monotonic()  # type: ignore[attr-defined]
        response.budget = remaining  # type: ignore[attr-defined]
        if 300 <= response.status_code < 400 and response.status_code != 304:
            response.close()
            target = urlsplit(response.headers.get("Location", "")).hostname or "?"
            raise ExtranetError(
                f"redirection vers {target} refusée (les identifiants ne quittent jamais "
                "l'adresse configurée)",
                code="redirection",
                status=response.status_code,
            )
        return response

    def _body(self, response: requests.Response, limit: int) -> bytes:
        """At most `limit` bytes, read as they come (one socket read at a time, so that the
        deadline is checked between reads); a body cut short is a transient fault."""
        chunks: list[bytes] = []
        size = 0
        ends = response.started + response.budget  # type: ignore[attr-defined]  # see _send
        try:
            while size < limit:
                if self._stop.is_set():
                    raise TransientError("arrêt demandé", code="arret")
                if time.monotonic() > ends:
                    raise TransientError("réponse trop lente, abandonnée", code="delai-depasse")
                chunk = response.raw.read1(min(64 * 1024, limit - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except (OSError, requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise TransientError(f"réponse interrompue ({type(exc).__name__})") from None
        finally:
            response.close()
        body = b"".join(chunks)
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and len(body) < min(int(declared), limit):
            raise TransientError("réponse tronquée")
        return body

    def _error(self, response: requests.Response, body: bytes) -> ExtranetError:
        try:
            payload = json.loads(body)
            code = payload.get("code") if isinstance(payload, dict) else None
            code = code if isinstance(code, str) else None
        except ValueError:
            code = None
        status = response.status_code
        message = MESSAGES.get(code or "", f"erreur HTTP {status}")
        retry_after = _retry_after(response, self._now)
        if status == 401 and code == "session-expiree":
            return SessionExpired(message, code=code, status=status)
        if code in ACCOUNT_CODES or status in (401, 423):
            return AccountError(message, code=code or "identifiants-invalides", status=status)
        if status == 403 and code == "commune-non-habilitee":
            return CommuneRefused(message, code=code, status=status)
        if status == 404:
            return UnknownDemande(message, code=code or "demande-inconnue", status=status)
        if status in (429, 503) or status >= 500:
            return TransientError(message, code=code, status=status, retry_after=retry_after)
        return ExtranetError(message, code=code, status=status)

    def _retrying(self, call: Callable[[], _T]) -> _T:
        policy = self._policy
        backoff = wait_exponential_jitter(
            multiplier=policy.initial_wait, max=policy.max_wait, jitter=policy.initial_wait
        )

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            told = getattr(error, "retry_after", None)
            return float(told) if told is not None else backoff(state)

        def worth_retrying(state: RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome else None
            if not isinstance(error, TransientError) or error.code in FINAL_TRANSIENT:
                return False
            told = error.retry_after
            return told is None or told <= policy.longest_retry_after

        retrying = Retrying(
            stop=stop_after_attempt(policy.attempts) | stop_after_delay(policy.total_seconds),
            wait=wait,
            retry=worth_retrying,
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda s: log.info("transient fault, attempt %d", s.attempt_number),
        )
        return retrying(call)


# Transient for the next pass, but not worth another try inside this one.
FINAL_TRANSIENT = frozenset({"arret", "delai-depasse"})


__all__ = [
    "AccountError",
    "CommuneRefused",
    "ExtranetClient",
    "ExtranetError",
    "Feed",
    "Limits",
    "RetryPolicy",
    "TransientError",
    "UnknownDemande",
]
