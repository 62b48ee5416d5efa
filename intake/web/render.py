"""Templates (Jinja2, autoescaped) and the French filters they use."""

from __future__ import annotations

from datetime import date, datetime
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from intake import french, vocabulary
from intake.vocabulary import ACTIONS, MEANS, NO_FOLLOW_UP, OUTCOMES
from intake.web import notice

templates = Jinja2Templates(directory=str(resources.files("intake.web") / "templates"))


def _tz(request: Request) -> Any:
    return request.app.state.intake.config.timezone


def _day(value: date | str | None) -> str:
    """jj/mm/aaaa, from a date or an ISO text (a summary's instant keeps its local day)."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return french.day(value)


templates.env.filters["jour"] = _day
templates.env.filters["jour_long"] = french.long_day
templates.env.filters["statut"] = vocabulary.status
templates.env.filters["civilite"] = vocabulary.civilite
templates.env.filters["sexe"] = vocabulary.sexe
templates.env.filters["regime"] = vocabulary.regime
templates.env.filters["situation"] = vocabulary.situation
templates.env.filters["mode"] = vocabulary.mode
templates.env.filters["frequence"] = vocabulary.frequence
templates.env.filters["issue"] = vocabulary.outcome
templates.env.filters["regle"] = vocabulary.rule
templates.env.globals.update(OUTCOMES=OUTCOMES, MEANS=MEANS, NO_FOLLOW_UP=NO_FOLLOW_UP)
templates.env.globals["ACTIONS"] = ACTIONS


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    app = request.app.state.intake
    tz = _tz(request)

    def moment(value: datetime | None) -> str:
        return french.instant(value, tz)

    context.setdefault("notice", notice.pending(request))
    response = templates.TemplateResponse(
        request,
        name,
        {"lieu": app.config.lieu.name, "moment": moment, **context},
        status_code=status_code,
    )
    notice.forget(request, response)  # shown once
    return response
