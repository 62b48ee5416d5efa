"""The console's application: routes, security headers, errors shown as French pages.

Served by uvicorn (`intake web`). Pages are rendered on the server, usable without
JavaScript; nothing personal goes in a URL's query string, in a log, or in a cache.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from intake.app import App
from intake.desk.access import AccessDenied, NotHeld, PastRetention
from intake.desk.accounts import dummy_hash
from intake.desk.followup import FollowUpError
from intake.errors import IntakeError
from intake.retention.signing import SignatureRefused
from intake.web import (
    accessibility_page,
    account_pages,
    auth,
    depot_pages,
    family_pages,
    notice,
    pages,
    staff_pages,
)
from intake.web.auth import BadCsrf, NeedSignIn
from intake.web.guards import BodyLimit, Guarded, too_large
from intake.web.render import page
from storage.anchors import AnchorError

# What the page says for an error of the framework: never the request's values, nor its
# details (a 422's would quote what was typed, a password included).
HTTP_ERRORS = {
    400: "requête invalide : rechargez la page et recommencez",
    404: "cette page n'existe pas",
    405: "cette page ne s'ouvre pas de cette façon : suivez les liens de la console",
    422: "formulaire ou adresse invalide : rechargez la page et recommencez",
}

# What a service refuses, and the HTTP status the page says it with (the message is French).
REFUSALS: dict[type[Exception], int] = {
    AccessDenied: 403,
    PastRetention: 410,  # a NotHeld, but its own handler comes first (by class order)
    NotHeld: 404,
    SignatureRefused: 400,
    FollowUpError: 400,
    IntakeError: 400,  # any other refusal: its French message, never a stack trace
    AnchorError: 503,  # the reading's anchor could not be written: nothing is shown
}


def _refusal_handler(status: int) -> Callable[[Request, Exception], Response]:
    def handle(request: Request, exc: Exception) -> Response:
        return _error(request, status, str(exc))

    return handle


def _error(request: Request, status: int, message: str) -> Response:
    """A French page saying why, with the menu when the person is signed in."""
    try:
        person = auth.accounts(request).person(request.cookies.get(auth.COOKIE))
    except Exception:  # an error page must not fail for want of the database: no menu then
        person = None
    signed_in = person if person is not None and person.stage == "ok" else None
    return page(request, "erreur.html", status_code=status, message=message, person=signed_in)


def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 400
    message = too_large(request.url.path) if status == 413 else HTTP_ERRORS.get(status)
    response = _error(request, status, message or "requête refusée")
    if isinstance(exc, HTTPException) and exc.headers and "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]  # a 405 names the methods it takes
    return response


def _invalid(request: Request, exc: Exception) -> Response:
    """A path that does not parse names no page (404); a bad form or query is a 422."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    if any(error.get("loc", ("",))[0] == "path" for error in errors):
        return _error(request, 404, HTTP_ERRORS[404])
    return _error(request, 422, HTTP_ERRORS[422])


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
    web.include_router(depot_pages.router)
    web.include_router(account_pages.router)
    web.include_router(family_pages.router)
    web.include_router(accessibility_page.router)

    # The last added runs first: the headers wrap the body's cap, which wraps the routes.
    web.add_middleware(BodyLimit, render=_error)
    web.add_middleware(Guarded, render=_error)
    web.add_exception_handler(HTTPException, _http_error)
    web.add_exception_handler(RequestValidationError, _invalid)

    @web.exception_handler(NeedSignIn)
    def need_sign_in(request: Request, exc: NeedSignIn) -> Response:
        # The cookie is left alone: a session awaiting its TOTP code goes on; an expired one
        # is already deleted on the server. Signing in again leads back to the page.
        target = notice.sign_in_url(notice.back_to(request))
        if exc.expired:
            return notice.redirect(request, target, "session-expiree")
        return RedirectResponse(target, status_code=303)

    @web.exception_handler(BadCsrf)
    def bad_csrf(request: Request, exc: BadCsrf) -> Response:
        message = "formulaire expiré ou venu d'ailleurs : rechargez la page et recommencez"
        return _error(request, 403, message)

    for kind, status in REFUSALS.items():
        web.add_exception_handler(kind, _refusal_handler(status))

    return web
