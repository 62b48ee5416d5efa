"""The administrators' accounts page (`/comptes`) and the page a one-time link opens to
choose a password (`/mot-de-passe/{token}`). Each handler parses, calls one method of
`intake.desk.account_admin` and renders; the rules and the audit are there."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import Response

from intake.desk.account_admin import AccountAdmin
from intake.desk.accounts import AccountError, Person, csrf_matches
from intake.errors import IntakeError
from intake.web import notice
from intake.web.auth import LOGIN_CSRF_COOKIE, BadCsrf, checked, intake, set_cookie, signed_in
from intake.web.render import page

router = APIRouter()
SignedIn = Annotated[Person, Depends(signed_in)]
Checked = Annotated[Person, Depends(checked)]
Colleague = Annotated[str, Form(alias="compte", max_length=254)]
Token = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9_-]{20,100}$")]
DUTIES = {"recipient": "destinataire", "signatory": "signataire", "admin": "administrateur"}


def admin_service(request: Request) -> AccountAdmin:
    return intake(request).account_admin


def qr_svg(text: str) -> str:
    """The QR code of `text`, as an SVG data URI (the CSP allows img data:)."""
    import segno

    return segno.make(text, error="m").svg_data_uri(scale=6, border=2)


def _overview(request: Request, person: Person, **extra: Any) -> Response:
    app = intake(request)
    states = admin_service(request).overview(person.email)
    return page(
        request,
        "comptes.html",
        person=person,
        states=states,
        now=app.clock.now(),
        zone=app.config.timezone,
        duties=DUTIES,
        can_send=bool(app.config.raw.web.base_url),
        **extra,
    )


@router.get("/comptes")
def accounts_page(request: Request, person: SignedIn) -> Response:
    return _overview(request, person)


@router.post("/comptes/debloquer")
def unlock(request: Request, person: Checked, compte: Colleague) -> Response:
    colleague = admin_service(request).unlock(person.email, compte)
    return notice.redirect(request, "/comptes", "deverrouille", colleague.email)


@router.post("/comptes/sessions")
def revoke(request: Request, person: Checked, compte: Colleague) -> Response:
    colleague = admin_service(request).revoke_sessions(person.email, compte)
    return notice.redirect(request, "/comptes", "sessions-fermees", colleague.email)


@router.post("/comptes/lien")
def send_link(request: Request, person: Checked, compte: Colleague) -> Response:
    colleague = admin_service(request).send_password_link(person.email, compte)
    return notice.redirect(request, "/comptes", "lien-envoye", colleague.email)


@router.post("/comptes/totp")
def enrol_totp(request: Request, person: Checked, compte: Colleague) -> Response:
    # Shown in this answer only (no-store): the secret is not kept anywhere in clear.
    colleague, uri = admin_service(request).enrol_totp(person.email, compte)
    return _overview(request, person, enrolled=colleague, qr=qr_svg(uri), uri=uri)


@router.get("/mot-de-passe/{token}")
def password_form(request: Request, token: Token) -> Response:
    try:
        member = admin_service(request).link_holder(token)
    except IntakeError as refused:
        return page(request, "erreur.html", status_code=410, message=str(refused))
    csrf = secrets.token_urlsafe(32)
    response = page(request, "mot_de_passe.html", member=member, csrf=csrf, error=None)
    set_cookie(request, response, LOGIN_CSRF_COOKIE, csrf)
    return response


@router.post("/mot-de-passe/{token}")
def password_set(
    request: Request,
    token: Token,
    mot_de_passe: Annotated[str, Form(max_length=1024)] = "",
    confirmation: Annotated[str, Form(max_length=1024)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if not csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf):
        raise BadCsrf
    service = admin_service(request)
    try:
        member = service.link_holder(token)
    except IntakeError as refused:
        return page(request, "erreur.html", status_code=410, message=str(refused))
    if mot_de_passe != confirmation:
        error = "les deux mots de passe diffèrent : tapez-le deux fois à l'identique"
        return page(
            request, "mot_de_passe.html", status_code=422, member=member, csrf=csrf, error=error
        )
    try:
        service.set_password_with_link(token, mot_de_passe)
    except AccountError as refused:
        return page(
            request, "mot_de_passe.html", status_code=422, member=member, csrf=csrf,
            error=str(refused),
        )  # fmt: skip
    return notice.redirect(request, "/connexion", "mot-de-passe")
