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
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from intake.clock import SystemClock
from intake.feed.model import DocumentPdf

log = logging.getLogger(__name__)

SESSION = "/api/v1/session"
FEED = "/api/v1/communes/{insee}/demandes"
PDF = "/api/v1/demandes/{numero}/pdf"
ACKNOWLEDGE = "/api/v1/demandes/{numero}/accuse-reception"
MAX_FEED_BYTES = 256 * 1024 * 1024


# --- errors, as the protocol's table sorts them -------------------------------------------------


class ExtranetError(Exception):
    """Any failure; `code` is the extranet's error code when it gave one."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code or (f"http-{status}" if status else "injoignable")
        self.status = status
        self.retry_after = retry_after


class TransientError(ExtranetError):
    """5xx, time-out, reset, truncated body, 429, 503: worth another try."""


class AccountError(ExtranetError):
    """identifiants-invalides, mot-de-passe-a-changer, compte-bloque: stop using the account."""


class CommuneRefused(ExtranetError):
    """commune-non-habilitee: the account is not habilitated for this commune."""


class UnknownDemande(ExtranetError):
    """demande-inconnue."""


class _SessionExpired(ExtranetError):
    pass


ACCOUNT_CODES = frozenset({"identifiants-invalides", "mot-de-passe-a-changer", "compte-bloque"})

MESSAGES = {
    "identifiants-invalides": "identifiant ou mot de passe refusé par l'extranet",
    "mot-de-passe-a-changer": "l'extranet demande de changer le mot de passe sur le site",
    "compte-bloque": "le compte est bloqué sur l'extranet",
    "commune-non-habilitee": "le compte n'est pas habilité pour cette commune",
    "demande-inconnue": "demande inconnue de l'extranet",
    "trop-de-requetes": "l'extranet limite le nombre de requêtes",
    "maintenance": "l'extranet est en maintenance",
    "session-expiree": "session expirée",
}


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    total_seconds: float = 60.0
    initial_wait: float = 0.5
    max_wait: float = 8.0
    # A Retry-After longer than this is not waited for inside one pass: the next pass will come.
    longest_retry_after: float = 30.0


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
        timeout: tuple[float, float] = (5.0, 30.0),
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.account = account
        self._password = password
        self._timeout = timeout
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._now = now or SystemClock().now
        self._token: str | None = None
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
        self.requests_made = 0

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
            if response.status_code != 201:
                raise self._error(response)
            try:
                self._token = response.json()["jeton"]
            except (ValueError, KeyError, TypeError):
                raise TransientError("réponse de connexion illisible") from None

        self._retrying(attempt)

    def sign_out(self) -> None:
        if self._token is None:
            return
        try:
            self._send("DELETE", SESSION)
        except ExtranetError:
            log.info("sign-out failed; the session will expire by itself")
        finally:
            self._token = None
            self._http.close()

    def feed(self, insee: str, etag: str | None) -> Feed:
        headers = {"If-None-Match": etag} if etag else {}
        response = self._call("GET", FEED.format(insee=insee), headers=headers, stream=True)
        if response.status_code == 304:
            return Feed(changed=False, etag=etag)
        content = self._body(response, MAX_FEED_BYTES)
        return Feed(changed=True, etag=response.headers.get("ETag"), content=content)

    def pdf(self, numero: str, document: DocumentPdf) -> bytes:
        """The PDF, retried while its size or SHA-256 differs from its declaration; after the
        last attempt, whatever came (at most one byte past the declared size) for the rules."""
        last: list[bytes] = []

        def fetch() -> bytes:
            response = self._call("GET", PDF.format(numero=numero), stream=True, retry=False)
            content = self._body(response, document.taille + 1)
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
        response = self._call("POST", ACKNOWLEDGE.format(numero=numero))
        if response.status_code != 204:
            raise self._error(response)

    # --- plumbing ----------------------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, retry: bool = True, **kwargs: Any
    ) -> requests.Response:
        """One protocol call: retried when transient, signed in again once if it expired."""

        def attempt() -> requests.Response:
            try:
                return self._checked(method, path, **kwargs)
            except _SessionExpired:
                log.info("session expired; signing in again once")
                self.sign_in()
                return self._checked(method, path, **kwargs)

        return self._retrying(attempt) if retry else attempt()

    def _checked(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self._send(method, path, **kwargs)
        if response.status_code >= 400:
            raise self._error(response)
        return response

    def _send(
        self, method: str, path: str, *, authenticated: bool = True, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if authenticated and self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        self.requests_made += 1
        try:
            return self._http.request(
                method, self.base_url + path, headers=headers, timeout=self._timeout, **kwargs
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"extranet injoignable ({type(exc).__name__})") from None

    def _body(self, response: requests.Response, limit: int) -> bytes:
        """Read at most `limit` bytes; a body cut short is a transient fault."""
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(64 * 1024):
                chunks.append(chunk)
                size += len(chunk)
                if size >= limit:
                    break
        except (
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.Timeout,
        ) as exc:
            raise TransientError(f"réponse interrompue ({type(exc).__name__})") from None
        finally:
            response.close()
        body = b"".join(chunks)[:limit]
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and len(body) < min(int(declared), limit):
            raise TransientError("réponse tronquée")
        return body

    def _error(self, response: requests.Response) -> ExtranetError:
        try:
            payload = response.json()
            code = payload.get("code") if isinstance(payload, dict) else None
        except ValueError:
            code = None
        status = response.status_code
        message = MESSAGES.get(code or "", f"erreur HTTP {status}")
        retry_after = _retry_after(response, self._now)
        if status == 401 and code == "session-expiree":
            return _SessionExpired(message, code=code, status=status)
        if code in ACCOUNT_CODES or status in (401, 423):
            return AccountError(message, code=code or "identifiants-invalides", status=status)
        if status == 403 and code == "commune-non-habilitee":
            return CommuneRefused(message, code=code, status=status)
        if status == 404:
            return UnknownDemande(message, code=code or "demande-inconnue", status=status)
        if status in (429, 503) or status >= 500:
            return TransientError(message, code=code, status=status, retry_after=retry_after)
        return ExtranetError(message, code=code, status=status)

    def _retrying(self, call: Callable[[], Any]) -> Any:
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
            if not isinstance(error, TransientError):
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


__all__ = [
    "AccountError",
    "CommuneRefused",
    "ExtranetClient",
    "ExtranetError",
    "Feed",
    "RetryPolicy",
    "TransientError",
    "UnknownDemande",
]
