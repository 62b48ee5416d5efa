"""The upload of feeds downloaded by hand (`/depot`): the handler parses the multipart body
once the session is known, calls the desk's `deposit` and shows the outcome of each demande.
"""

from __future__ import annotations

from typing import Annotated, BinaryIO

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from intake.desk.accounts import Person
from intake.desk.depot import MAX_DEPOT, DepotRefused
from intake.web.auth import checked, intake, signed_in
from intake.web.render import page

router = APIRouter()
SignedIn = Annotated[Person, Depends(signed_in)]
Checked = Annotated[Person, Depends(checked)]
LIMIT_MB = MAX_DEPOT // (1024 * 1024)


@router.get("/depot")
def depot_form(request: Request, person: SignedIn) -> Response:
    return page(request, "depot.html", person=person, deposit=None, error=None, limit=LIMIT_MB)


# No File parameter: FastAPI would parse the body before `Checked` looks at the session.
@router.post("/depot")
async def depot(request: Request, person: Checked) -> Response:
    form = await request.form()  # already parsed by `checked`, within the body's limit
    files = [f for f in form.getlist("fichiers") if isinstance(f, UploadFile) and f.filename]
    uploads: list[tuple[str, BinaryIO]] = [(f.filename or "", f.file) for f in files]
    try:
        app = intake(request)
        result = await run_in_threadpool(app.desk.deposit, app.context(person.email), uploads)
    except DepotRefused as refused:
        return page(
            request,
            "depot.html",
            status_code=422,
            person=person,
            deposit=None,
            error=str(refused),
            limit=LIMIT_MB,
        )
    finally:
        for file in files:
            await file.close()
    return page(request, "depot.html", person=person, deposit=result, error=None, limit=LIMIT_MB)
