"""Writing to a family from its demande: choose a letter, preview and edit it, send it. Each
handler parses, calls the family emails' service and renders."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from intake.desk.accounts import Person
from intake.family.letters import LetterError
from intake.web import notice
from intake.web.auth import checked, intake, signed_in
from intake.web.render import page

router = APIRouter()
SignedIn = Annotated[Person, Depends(signed_in)]
Checked = Annotated[Person, Depends(checked)]


@router.get("/demandes/{numero}/courriel")
def letter_form(
    request: Request,
    person: SignedIn,
    numero: str,
    modele: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    app = intake(request)
    draft = app.family_emails.draft(app.context(person.email), numero[:15], modele or None)
    return page(
        request, "courriel.html", person=person, draft=draft, subject=draft.subject,
        text=draft.text, error=None,
    )  # fmt: skip


@router.post("/demandes/{numero}/courriel")
def letter_sent(
    request: Request,
    person: Checked,
    numero: str,
    modele: Annotated[str, Form(max_length=40)],
    objet: Annotated[str, Form(max_length=400)] = "",
    texte: Annotated[str, Form(max_length=40_000)] = "",
) -> Response:
    app = intake(request)
    ctx, numero = app.context(person.email), numero[:15]
    try:
        app.family_emails.send(ctx, numero, modele, objet, texte)
    except LetterError as refused:  # shown with what was typed, to send again
        draft = app.family_emails.draft(ctx, numero, modele)
        return page(
            request, "courriel.html", status_code=422, person=person, draft=draft,
            subject=objet, text=texte, error=str(refused),
        )  # fmt: skip
    return notice.redirect(request, f"/demandes/{numero}", "courriel-famille", numero)
