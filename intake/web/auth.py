"""Who is asking: the session cookie, the CSRF token of every POST, and the sign-in pages.

A handler only parses, calls one service and renders; the rules (passwords, lock-out,
time-outs, TOTP) are in `intake.desk.accounts`.
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from intake.app import App
from intake.desk.accounts import Accounts, Person, SignInRefused, csrf_matches
from intake.web.notice import safe_next
from intake.web.render import page

COOKIE = "intake_session"
LOGIN_CSRF_COOKIE = "intake_csrf"  # before sign-in: a double-submitted token


class NeedSignIn(Exception):
    """No valid session: the person is sent to /connexion (told so if theirs expired)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__()
        self.expired = expired


class BadCsrf(Exception):
    """A POST without the form's token: refused with 403."""


def intake(request: Request) -> App:
    app: App = request.app.state.intake
    return app


def accounts(request: Request) -> Accounts:
    return intake(request).accounts


def signed_in(request: Request) -> Person:
    token = request.cookies.get(COOKIE)
    person = accounts(request).person(token)
    if person is None or person.stage != "ok":
        # A cookie that names no live session: it timed out (or was ended elsewhere).
        raise NeedSignIn(expired=bool(token) and person is None)
    return person


async def checked(request: Request, person: Annotated[Person, Depends(signed_in)]) -> Person:
    """The signed-in person, for a POST whose form carries their session's CSRF token."""
    form = await request.form()
    given = form.get("csrf")
    if not csrf_matches(person.csrf, given if isinstance(given, str) else None):
        raise BadCsrf
    return person


def source(request: Request) -> str:
    """The address the request came from: the client's own behind the HTTPS proxy, which
    uvicorn takes from X-Forwarded-For when the proxy is local (forwarded_allow_ips)."""
    return request.client.host if request.client else "inconnue"


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    secure = not intake(request).config.raw.web.insecure_http
    response.set_cookie(
        name, value, httponly=True, samesite="strict", secure=secure, path="/", max_age=12 * 3600
    )


router = APIRouter()


Next = Annotated[str, Query(alias="suite", max_length=2000)]


@router.get("/connexion")
def sign_in_form(request: Request, suite: Next = "/") -> Response:
    token = secrets.token_urlsafe(32)
    response = page(
        request, "connexion.html", csrf=token, error=None, email="", suite=safe_next(suite)
    )
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token)
    return response


@router.post("/connexion")
def sign_in(
    request: Request,
    email: Annotated[str, Form(max_length=254)] = "",
    mot_de_passe: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    suite: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if not csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf):
        raise BadCsrf
    back = safe_next(suite)
    try:
        opened = accounts(request).sign_in(
            email, mot_de_passe, request.cookies.get(COOKIE), source=source(request)
        )
    except SignInRefused as refused:
        # The address is kept; the password never is.
        return page(
            request, "connexion.html", csrf=csrf, error=str(refused), email=email, suite=back,
            status_code=401,
        )  # fmt: skip
    target = back
    if opened.person.stage != "ok":
        target = "/connexion/code" + ("" if back == "/" else f"?suite={quote(back, safe='/')}")
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, COOKIE, opened.token)
    return response


@router.get("/connexion/code")
def code_form(request: Request, suite: Next = "/") -> Response:
    person = accounts(request).person(request.cookies.get(COOKIE))
    if person is None or person.stage != "code":
        return RedirectResponse("/connexion", status_code=303)
    return page(request, "code.html", csrf=person.csrf, error=None, suite=safe_next(suite))


@router.post("/connexion/code")
def confirm_code(
    request: Request,
    code: Annotated[str, Form(max_length=20)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    suite: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    token = request.cookies.get(COOKIE, "")
    service = accounts(request)
    person = service.person(token)
    if person is None or person.stage != "code":
        return RedirectResponse("/connexion", status_code=303)
    if not csrf_matches(person.csrf, csrf):
        raise BadCsrf
    try:
        opened = service.confirm_code(token, code, source=source(request))
    except SignInRefused as refused:
        return page(
            request, "code.html", csrf=person.csrf, error=str(refused), suite=safe_next(suite),
            status_code=401,
        )  # fmt: skip
    response = RedirectResponse(safe_next(suite), status_code=303)
    set_cookie(request, response, COOKIE, opened.token)
    return response


@router.post("/deconnexion")
def sign_out(request: Request, person: Annotated[Person, Depends(checked)]) -> Response:
    accounts(request).sign_out(request.cookies.get(COOKIE))
    response = RedirectResponse("/connexion", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
