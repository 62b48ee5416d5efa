"""Templates (Jinja2, autoescaped) and the French filters they use."""

from __future__ import annotations

from datetime import date, datetime
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from intake import french
from intake.followup import MEANS, NO_FOLLOW_UP, OUTCOMES
from intake.journal import ACTIONS

templates = Jinja2Templates(directory=str(resources.files("intake.web") / "templates"))


def _tz(request: Request) -> Any:
    return request.app.state.intake.config.timezone


def _day(value: date | None) -> str:
    return french.day(value)


templates.env.filters["jour"] = _day
templates.env.filters["statut"] = french.status
templates.env.globals.update(OUTCOMES=OUTCOMES, MEANS=MEANS, NO_FOLLOW_UP=NO_FOLLOW_UP)
templates.env.globals["ACTIONS"] = ACTIONS


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    app = request.app.state.intake
    tz = _tz(request)

    def moment(value: datetime | None) -> str:
        return french.instant(value, tz)

    return templates.TemplateResponse(
        request,
        name,
        {"lieu": app.config.lieu.name, "moment": moment, **context},
        status_code=status_code,
    )
