"""The agents' pages: the front page, the demandes, one demande, its PDF, its follow-up, and
the export. Each handler parses the request, calls one service and renders."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from intake import deadlines, followup, french
from intake.access import open_demande
from intake.accounts import Person
from intake.dashboard import dashboard
from intake.export_xlsx import MEDIA_TYPE as XLSX_MEDIA_TYPE
from intake.exports import EXPORT_WARNING, Selection, export, last_export
from intake.family.service import SENT
from intake.followup import FOLLOW_UP
from intake.listing import STAGES, Filters, demandes_page
from intake.vocabulary import STATUS
from intake.web import notice
from intake.web.auth import checked, intake, signed_in
from intake.web.render import page

router = APIRouter()
SignedIn = Annotated[Person, Depends(signed_in)]
Checked = Annotated[Person, Depends(checked)]


def _optional_date(text: str | None) -> date | None:
    return french.parse_day(text)  # the picker's aaaa-mm-jj, or jj/mm/aaaa typed by hand


@router.get("/")
def front(request: Request, person: SignedIn) -> Response:
    app = intake(request)
    board = dashboard(app.engine, app.config, person.member, app.clock.now())
    return page(request, "tableau.html", person=person, board=board)


@router.get("/demandes")
def demandes(
    request: Request,
    person: SignedIn,
    commune: Annotated[str | None, Query(max_length=5)] = None,
    statut: Annotated[str | None, Query(max_length=12)] = None,
    tri: Annotated[str | None, Query(max_length=12)] = None,
    traitement: Annotated[str | None, Query(max_length=12)] = None,
    du: Annotated[str | None, Query(max_length=10)] = None,
    au: Annotated[str | None, Query(max_length=10)] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    app = intake(request)
    filters = Filters(
        commune=commune or None,
        status=statut or None,
        treated={"a-traiter": False, "traitees": True}.get(traitement or ""),
        since=_optional_date(du),
        until=_optional_date(au),
        newest_first=tri == "recentes",
    )
    listing = demandes_page(
        app.engine, app.config, person.member, filters, page_number, app.clock.now()
    )
    communes = sorted(
        (c for c in app.config.raw.communes if c.insee in app.config.staff_communes(person.member)),
        key=lambda c: c.name.casefold(),
    )
    query = {
        "commune": commune,
        "statut": statut,
        "traitement": traitement,
        "tri": tri,
        "du": du,
        "au": au,
    }
    return page(
        request,
        "demandes.html",
        person=person,
        listing=listing,
        communes=communes,
        statuses=[*STATUS.items(), *STAGES.items()],
        query={k: v for k, v in query.items() if v},
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
    opened = open_demande(
        app.engine, app.vault, app.config, numero[:15], person.email, app.clock.now()
    )
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
    opened = open_demande(
        app.engine, app.vault, app.config, numero[:15], person.email, app.clock.now(), with_pdf=True
    )
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
    followup.mark_treated(
        app.engine, app.vault, app.config, numero[:15], person.email, app.clock.now()
    )
    return notice.redirect(request, f"/demandes/{numero[:15]}", "traitee", numero[:15])


@router.post("/demandes/{numero}/suivi")
def follow_up(
    request: Request,
    person: Checked,
    numero: str,
    issue: Annotated[str, Form(max_length=20)],
    date_contact: Annotated[str, Form(max_length=10)] = "",
    moyen: Annotated[str, Form(max_length=20)] = "",
    orientation: Annotated[str, Form(max_length=500)] = "",
    raison: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    app = intake(request)
    try:
        followup.record_follow_up(
            app.engine,
            app.vault,
            app.config,
            numero[:15],
            person.email,
            app.clock.now(),
            outcome=issue,
            contacted_on=_optional_date(date_contact),
            means=moyen or None,
            directed_to=orientation,
            reason=raison or None,
        )
    except followup.FollowUpError as refused:
        kept = {"issue": issue, "date_contact": date_contact, "moyen": moyen,
                "orientation": orientation, "raison": raison}  # fmt: skip
        field = _FOLLOW_UP_FIELDS.get(issue, "issue")
        return _demande_page(
            request, person, numero, status_code=422, kept=kept, form_error=(field, str(refused))
        )
    return notice.redirect(request, f"/demandes/{numero[:15]}", "suivi", numero[:15])


# The field a refused follow-up is shown next to, by the outcome chosen.
_FOLLOW_UP_FIELDS = {"contactee": "date_contact", "orientee": "orientation", "sans-suite": "raison"}


@router.get("/export")
def export_form(request: Request, person: SignedIn) -> Response:
    app = intake(request)
    return page(
        request,
        "export.html",
        person=person,
        last=last_export(app.engine, person.email),
        warning=EXPORT_WARNING,
    )


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
    now, tz = app.clock.now(), app.config.timezone
    selection = Selection()
    if etendue == "depuis":
        selection = Selection(after=last_export(app.engine, person.email))
    elif etendue == "periode":
        since, until = deadlines.day_range(_optional_date(du), _optional_date(au), tz)
        selection = Selection(since=since, until=until)
    written: list[bytes] = []
    export(app.engine, app.vault, app.config, person.email, format_, now, written.append, selection)
    name = f"demandes-{now.astimezone(tz):%Y-%m-%d-%H%M}.{format_}"
    return Response(
        written[0],
        media_type=XLSX_MEDIA_TYPE if format_ == "xlsx" else "text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
