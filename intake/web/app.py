"""The console's application: routes, security headers, errors shown as French pages.

Served by uvicorn (`intake web`). Pages are rendered on the server, usable without
JavaScript; nothing personal goes in a URL's query string, in a log, or in a cache.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from intake.access import AccessDenied, NotHeld, PastRetention
from intake.accounts import dummy_hash
from intake.app import App
from intake.errors import IntakeError
from intake.followup import FollowUpError
from intake.retention.signing import SignatureRefused
from intake.web import auth, pages, staff_pages
from intake.web.auth import BadCsrf, NeedSignIn
from intake.web.render import page

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


# What a service refuses, and the HTTP status the page says it with (the message is French).
REFUSALS: dict[type[Exception], int] = {
    AccessDenied: 403,
    PastRetention: 410,  # a NotHeld, but its own handler comes first (by class order)
    NotHeld: 404,
    SignatureRefused: 400,
    FollowUpError: 400,
    IntakeError: 400,  # any other refusal: its French message, never a stack trace
}


def _refusal_handler(status: int) -> Callable[[Request, Exception], Response]:
    def handle(request: Request, exc: Exception) -> Response:
        return _error(request, status, str(exc))

    return handle


def _error(request: Request, status: int, message: str) -> Response:
    """A French page saying why, with the menu when the person is signed in."""
    person = auth.accounts(request).person(request.cookies.get(auth.COOKIE))
    signed_in = person if person is not None and person.stage == "ok" else None
    return page(request, "erreur.html", status_code=status, message=message, person=signed_in)


def create_app(intake: App) -> FastAPI:
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    web.state.intake = intake
    dummy_hash()  # made now, so that the first unknown address answers as fast as the others
    web.mount(
        "/static", StaticFiles(directory=str(resources.files("intake.web") / "static")), "static"
    )
    web.include_router(auth.router)
    web.include_router(pages.router)
    web.include_router(staff_pages.router)

    @web.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith("/static/"):
            # Pages may hold personal data: no browser or proxy keeps a copy.
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response

    @web.exception_handler(NeedSignIn)
    def need_sign_in(request: Request, exc: NeedSignIn) -> Response:
        # The cookie is left alone: a session awaiting its TOTP code goes on; an expired one
        # is already deleted on the server.
        return RedirectResponse("/connexion", status_code=303)

    @web.exception_handler(BadCsrf)
    def bad_csrf(request: Request, exc: BadCsrf) -> Response:
        message = "formulaire expiré ou venu d'ailleurs : rechargez la page et recommencez"
        return _error(request, 403, message)

    for kind, status in REFUSALS.items():
        web.add_exception_handler(kind, _refusal_handler(status))

    return web
