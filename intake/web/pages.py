"""The agents' pages: the front page, the demandes, one demande, its PDF, its follow-up, and
the export. Each handler parses the request, calls one service and renders."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from intake import french
from intake.desk.accounts import Person
from intake.desk.export_xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from intake.desk.exports import EXPORT_WARNING
from intake.desk.followup import FOLLOW_UP, FollowUpError, FollowUpForm
from intake.desk.listing import STAGES, Filters
from intake.family.service import SENT
from intake.vocabulary import STATUS
from intake.web import notice
from intake.web.auth import checked, intake, signed_in
from intake.web.render import page

router = APIRouter()
SignedIn = Annotated[Person, Depends(signed_in)]
Checked = Annotated[Person, Depends(checked)]


def _optional_date(text: str | None) -> date | None:
    return french.parse_day(text)  # the picker's aaaa-mm-jj, or jj/mm/aaaa typed by hand


def listing_filters(
    commune: Annotated[str | None, Query(max_length=5)] = None,
    statut: Annotated[str | None, Query(max_length=12)] = None,
    tri: Annotated[str | None, Query(max_length=12)] = None,
    traitement: Annotated[str | None, Query(max_length=12)] = None,
    du: Annotated[str | None, Query(max_length=10)] = None,
    au: Annotated[str | None, Query(max_length=10)] = None,
) -> tuple[Filters, dict[str, str]]:
    """The list's filters, and the query its links repeat (never anything personal)."""
    filters = Filters(
        commune=commune or None,
        status=statut or None,
        treated={"a-traiter": False, "traitees": True}.get(traitement or ""),
        since=_optional_date(du),
        until=_optional_date(au),
        newest_first=tri == "recentes",
    )
    query = {"commune": commune, "statut": statut, "traitement": traitement, "tri": tri,
             "du": du, "au": au}  # fmt: skip
    return filters, {k: v for k, v in query.items() if v}


@dataclass(frozen=True)
class FollowUpFields:
    """The follow-up form as typed, kept to show it again when it is refused."""

    issue: str
    date_contact: str
    moyen: str
    orientation: str
    raison: str

    def form(self) -> FollowUpForm:
        return FollowUpForm(
            outcome=self.issue,
            contacted_on=_optional_date(self.date_contact),
            means=self.moyen or None,
            directed_to=self.orientation,
            reason=self.raison or None,
        )


def follow_up_fields(
    issue: Annotated[str, Form(max_length=20)],
    date_contact: Annotated[str, Form(max_length=10)] = "",
    moyen: Annotated[str, Form(max_length=20)] = "",
    orientation: Annotated[str, Form(max_length=500)] = "",
    raison: Annotated[str, Form(max_length=30)] = "",
) -> FollowUpFields:
    return FollowUpFields(issue, date_contact, moyen, orientation, raison)


Listed = Annotated[tuple[Filters, dict[str, str]], Depends(listing_filters)]
FollowUpTyped = Annotated[FollowUpFields, Depends(follow_up_fields)]


@router.get("/")
def front(request: Request, person: SignedIn) -> Response:
    app = intake(request)
    board = app.desk.dashboard(app.context(person.email))
    return page(request, "tableau.html", person=person, board=board)


@router.get("/demandes")
def demandes(
    request: Request,
    person: SignedIn,
    listed: Listed,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    app = intake(request)
    filters, query = listed
    listing = app.reading.demandes(app.context(person.email), filters, page_number)
    return page(
        request,
        "demandes.html",
        person=person,
        listing=listing,
        communes=listing.communes,
        statuses=[*STATUS.items(), *STAGES.items()],
        query=query,
    )


@router.get("/demandes/{numero}")
def demande(request: Request, person: SignedIn, numero: str) -> Response:
    return _demande_page(request, person, numero)


def _demande_page(
    request: Request,
    person: Person,
    numero: str,
    *,
    status_code: int = 200,
    kept: dict[str, str] | None = None,
    form_error: tuple[str, str] | None = None,
) -> Response:
    """The demande, read (and audited) again; with the follow-up form's error next to its
    field and what was typed in it when that form was refused."""
    app = intake(request)
    opened = app.reading.open(app.context(person.email), numero[:15])
    follow_up = FOLLOW_UP.validate_json(opened.follow_up) if opened.follow_up else None
    return page(
        request,
        "demande.html",
        status_code=status_code,
        person=person,
        opened=opened,
        d=opened.demande,
        follow_up=follow_up,
        family_emails=SENT.validate_json(opened.family_emails) if opened.family_emails else [],
        commune_name=app.config.commune_name(opened.row.commune),
        quarantine=(opened.quarantine_xml or b"").decode("utf-8", "replace"),
        kept=kept or {},
        form_error=form_error,
    )


@router.get("/demandes/{numero}/pdf")
def demande_pdf(request: Request, person: SignedIn, numero: str) -> Response:
    app = intake(request)
    opened = app.reading.open(app.context(person.email), numero[:15], with_pdf=True)
    if opened.pdf is None:
        return page(request, "erreur.html", status_code=404, message="aucun PDF conservé")
    return Response(
        opened.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{opened.row.numero}.pdf"'},
    )


@router.post("/demandes/{numero}/traitee")
def treated(request: Request, person: Checked, numero: str) -> Response:
    app = intake(request)
    app.followups.mark_treated(app.context(person.email), numero[:15])
    return notice.redirect(request, f"/demandes/{numero[:15]}", "traitee", numero[:15])


@router.post("/demandes/{numero}/suivi")
def follow_up(request: Request, person: Checked, numero: str, typed: FollowUpTyped) -> Response:
    app = intake(request)
    try:
        app.followups.record(app.context(person.email), numero[:15], typed.form())
    except FollowUpError as refused:
        field = _FOLLOW_UP_FIELDS.get(typed.issue, "issue")
        return _demande_page(
            request, person, numero, status_code=422, kept=asdict(typed),
            form_error=(field, str(refused)),
        )  # fmt: skip
    return notice.redirect(request, f"/demandes/{numero[:15]}", "suivi", numero[:15])


# The field a refused follow-up is shown next to, by the outcome chosen.
_FOLLOW_UP_FIELDS = {"contactee": "date_contact", "orientee": "orientation", "sans-suite": "raison"}


@router.get("/export")
def export_form(request: Request, person: SignedIn) -> Response:
    app = intake(request)
    last = app.exports.last(app.context(person.email))
    return page(request, "export.html", person=person, last=last, warning=EXPORT_WARNING)


@router.post("/export")
def export_file(
    request: Request,
    person: Checked,
    etendue: Annotated[Literal["depuis", "periode", "tout"], Form()] = "depuis",
    du: Annotated[str, Form(max_length=10)] = "",
    au: Annotated[str, Form(max_length=10)] = "",
    format_: Annotated[Literal["xlsx", "csv"], Form(alias="format")] = "csv",
) -> Response:
    app = intake(request)
    ctx = app.context(person.email)
    done = app.exports.download(ctx, format_, etendue, _optional_date(du), _optional_date(au))
    return Response(
        done.content,
        media_type=XLSX_MEDIA_TYPE if format_ == "xlsx" else "text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{done.name}"'},
    )
