"""The accessibility statement (`/accessibilite`), linked from the foot of every page: open
to anyone, the sign-in page's visitors included, with the menu for a signed-in person."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from intake.web import auth
from intake.web.render import page

router = APIRouter()


@router.get("/accessibilite")
def accessibility(request: Request) -> Response:
    person = auth.accounts(request).person(request.cookies.get(auth.COOKIE))
    signed_in = person if person is not None and person.stage == "ok" else None
    return page(request, "accessibilite.html", person=signed_in)
