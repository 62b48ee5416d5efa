"""The pages beyond the daily list: the journal (admins), the attestations (signatories
sign them), the monthly reports. Each handler parses, calls one service and renders."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from intake import french
from intake.desk.accounts import Person
from intake.desk.journal import JournalFilters, describe, staff_names
from intake.retention.signing import SignatureRefused
from intake.web import notice
from intake.web.auth import checked, intake, signed_in
from intake.web.guards import MAX_UPLOAD
from intake.web.render import page

router = APIRouter()
SignedIn = Annotated[Person, Depends(signed_in)]
Checked = Annotated[Person, Depends(checked)]


def _date(text: str | None) -> date | None:
    return french.parse_day(text)  # the picker's aaaa-mm-jj, or jj/mm/aaaa typed by hand


def journal_filters(
    personne: Annotated[str | None, Query(max_length=254)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    du: Annotated[str | None, Query(max_length=10)] = None,
    au: Annotated[str | None, Query(max_length=10)] = None,
) -> JournalFilters:
    return JournalFilters(
        actor=personne or None, action=action or None, since=_date(du), until=_date(au)
    )


Filtered = Annotated[JournalFilters, Depends(journal_filters)]


def _query(filters: JournalFilters) -> dict[str, str]:
    """The filters as the page's links repeat them (never anything personal)."""
    values = {
        "personne": filters.actor,
        "action": filters.action,
        "du": filters.since.isoformat() if filters.since else None,
        "au": filters.until.isoformat() if filters.until else None,
    }
    return {k: v for k, v in values.items() if v}


@router.get("/journal")
def journal(
    request: Request,
    person: SignedIn,
    filters: Filtered,
    page_number: Annotated[int, Query(alias="page", ge=1, le=1_000_000)] = 1,
) -> Response:
    app = intake(request)
    listing = app.journal.page(app.context(person.email), filters, page_number)
    return page(
        request,
        "journal.html",
        person=person,
        listing=listing,
        describe=describe,
        names=staff_names(app.config),
        staff=sorted(app.config.raw.staff, key=lambda m: m.name.casefold()),
        query=_query(filters),
    )


@router.get("/journal.csv")
def journal_export(request: Request, person: SignedIn, filters: Filtered) -> Response:
    app = intake(request)
    content = app.journal.csv(app.context(person.email), filters)
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="journal-audit.csv"'},
    )


@router.get("/attestations")
def attestations(request: Request, person: SignedIn) -> Response:
    return _attestations_page(request, person)


def _attestations_page(
    request: Request, person: Person, refused: tuple[int, str, str] | None = None
) -> Response:
    """The list; after a refused signature or copy, its reason next to the file field of that
    attestation's form (`refused`: attestation, field, message)."""
    app = intake(request)
    return page(
        request,
        "attestations.html",
        status_code=422 if refused else 200,
        person=person,
        attestations=app.attestations.visible(person.email),
        signatory=app.attestations.may_sign(person.email),
        refused=refused,
    )


@router.get("/attestations/{number:id}/pdf")
def attestation_pdf(request: Request, person: SignedIn, number: int) -> Response:
    document = intake(request).attestations.document_for(number, person.email)
    return Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="attestation-{number}.pdf"'},
    )


# The upload routes declare no File or Form parameter: FastAPI would parse the multipart
# body before `Checked` looks at the session. `Checked` parses it once the session is known.


async def _upload(request: Request, name: str) -> bytes:
    file = (await request.form()).get(name)
    if not isinstance(file, UploadFile):
        raise HTTPException(status_code=422)
    try:
        return await file.read(MAX_UPLOAD + 1)
    finally:
        await file.close()


async def _field(request: Request, name: str, max_length: int) -> str:
    value = (await request.form()).get(name, "")
    if not isinstance(value, str) or len(value) > max_length:
        raise HTTPException(status_code=422)
    return value


@router.post("/attestations/{number:id}/signature")
async def sign(request: Request, person: Checked, number: int) -> Response:
    # The passphrase and the certificate live in this request only: never stored.
    data = await _upload(request, "certificat")
    phrase = await _field(request, "phrase", 1024)
    service = intake(request).attestations
    try:
        await run_in_threadpool(service.sign, number, person.email, data, phrase or None)
    except SignatureRefused as why:
        return await run_in_threadpool(
            _attestations_page, request, person, (number, "certificat", str(why))
        )
    return notice.redirect(request, "/attestations", "signee", str(number))


@router.post("/attestations/{number:id}/scan")
async def record_scan(request: Request, person: Checked, number: int) -> Response:
    data = await _upload(request, "scan")
    service = intake(request).attestations
    try:
        await run_in_threadpool(service.record_signed, number, person.email, data)
    except SignatureRefused as why:
        return await run_in_threadpool(
            _attestations_page, request, person, (number, "scan", str(why))
        )
    return notice.redirect(request, "/attestations", "scan", str(number))


@router.get("/rapports")
def reports(request: Request, person: SignedIn) -> Response:
    kept = intake(request).report_access.kept(person.email)
    return page(request, "rapports.html", person=person, reports=kept)


@router.get("/rapports/{month}.{kind}")
def report_file(request: Request, person: SignedIn, month: str, kind: str) -> Response:
    if kind not in ("pdf", "csv"):
        return page(request, "erreur.html", status_code=404, message="format inconnu")
    content = intake(request).report_access.file(person.email, month[:7], kind)
    if content is None:
        return page(request, "erreur.html", status_code=404, message="aucun rapport pour ce mois")
    media = "application/pdf" if kind == "pdf" else "text/csv; charset=utf-8"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="rapport-{month[:7]}.{kind}"'},
    )
