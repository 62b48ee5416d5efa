"""What wraps every request of the console: a cap on its body, the security headers on every
answer (errors included), and a French page instead of a traceback.

Both are pure ASGI middlewares: the body is counted as it streams, before anything parses it,
and no answer, whatever raised, leaves without the headers. Starlette's own
`RequestBodyLimitMiddleware` was not kept: it answers in English plain text, and from outside
the middlewares that add the headers.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable

from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.desk.depot import MAX_DEPOT

log = logging.getLogger("intake.web")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
}

FORM_LIMIT = 64 * 1024  # a form of the console is a few hundred bytes
MAX_UPLOAD = 20 * 1024 * 1024  # a certificate or a scanned attestation
UPLOAD_LIMIT = MAX_UPLOAD + FORM_LIMIT  # the file, its form fields and the multipart framing
UPLOAD_ROUTES = re.compile(r"/attestations/[1-9][0-9]{0,8}/(signature|scan)")
DEPOT_LIMIT = MAX_DEPOT + FORM_LIMIT
DEPOT_ROUTE = "/depot"

TOO_LARGE = (
    "la requête est trop volumineuse : {limit} au plus pour cette page. Un certificat ou "
    "une copie numérisée doit peser moins de 20 Mo."
)
DEPOT_TOO_LARGE = (
    "le dépôt est trop volumineux : {limit} au plus. Déposez le flux et ses PDF en plusieurs "
    "fois, un flux à la fois."
)
INTERNAL = (
    "erreur interne : la page n'a pas pu être produite. L'erreur est inscrite au journal du "
    "service (journalctl -u intake-web) ; réessayez, et prévenez l'informaticien si elle se "
    "répète."
)


class RowId(Convertor[int]):
    """A row's number in a path: 1 to 999,999,999, so that any other value matches no route
    (404) instead of overflowing an SQL integer."""

    regex = "[1-9][0-9]{0,8}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", RowId())


class BodyTooLarge(HTTPException):
    """Raised by the counted `receive`: the console's 413 handler renders it in French."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


def body_limit(path: str) -> int:
    if path == DEPOT_ROUTE:
        return DEPOT_LIMIT
    return UPLOAD_LIMIT if UPLOAD_ROUTES.fullmatch(path) else FORM_LIMIT


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} Mo" if limit >= 1024 * 1024 else f"{limit // 1024} Ko"


def too_large(path: str) -> str:
    """The 413 page's words for a request to `path`."""
    words = DEPOT_TOO_LARGE if path == DEPOT_ROUTE else TOO_LARGE
    return words.format(limit=_size(body_limit(path)))


Render = Callable[[Request, int, str], Response]  # an error page: (request, status, message)


class BodyLimit:
    """Refuses with 413 a body beyond its route's limit: at once when Content-Length says so,
    else as soon as the bytes received (chunked or not) pass it."""

    def __init__(self, app: ASGIApp, render: Render) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send)
            return
        received = 0
        overflowed = started = dropping = False

        async def counted() -> Message:
            nonlocal received, overflowed
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    overflowed = True
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started, dropping
            if message["type"] == "http.response.start":
                # Whatever the app made of a cut body (a 400, a redirect), it is a 413.
                dropping = overflowed and message["status"] != 413
                started = not dropping
            if not dropping:
                await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
        if overflowed and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self.render(Request(scope, receive), 413, too_large(scope["path"]))
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


class Guarded:
    """The headers on every answer, and a French 500 page for whatever nothing else caught:
    logged with its type and where it was raised, never its message (it may quote input)."""

    def __init__(self, app: ASGIApp, render: Render) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        started = False

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if not static:
                    # Pages may hold personal data: no browser or proxy keeps a copy.
                    headers["Cache-Control"] = "no-store"
                    headers["Pragma"] = "no-cache"
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        except Exception as error:
            where = " < ".join(
                f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
                for frame in reversed(traceback.extract_tb(error.__traceback__)[-4:])
            )
            log.error(
                "erreur interne (%s) sur %s : %s", type(error).__name__, scope["method"], where
            )
            if started:
                raise
            await self._internal(scope, receive, with_headers)

    async def _internal(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response: Response = self.render(Request(scope, receive), 500, INTERNAL)
        except Exception:  # the page itself failed (the database, a template): words only
            response = HTMLResponse(
                '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Erreur'
                '</title><link rel="stylesheet" href="/static/console.css"></head><body><main>'
                f"<h1>Impossible</h1><p>{INTERNAL}</p></main></body></html>",
                status_code=500,
            )
        await response(scope, receive, send)
