"""Habilitation periods: a person of [[staff]] acts, is told, signs and retrieves only from
`since` to `until`, both days included, in the lieu's time zone (as annexe 1 lists them).

Before `since` and after `until` the person is treated as outside [[staff]]: no sign-in, no
open session, no command in their name, no email, no signature, no extranet account used.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from intake.config import Config, StaffSection


def habilitated_on(member: StaffSection, day: date) -> bool:
    return (member.since is None or member.since <= day) and (
        member.until is None or day <= member.until
    )


def habilitated(member: StaffSection, now: datetime, zone: ZoneInfo) -> bool:
    return habilitated_on(member, now.astimezone(zone).date())


def habilitated_member(config: Config, email: str, now: datetime) -> StaffSection | None:
    """The person of [[staff]] with this address if habilitated at `now`, else None."""
    member = config.staff_member(email)
    if member is None or not habilitated(member, now, config.timezone):
        return None
    return member


def ends_at(member: StaffSection, zone: ZoneInfo) -> datetime | None:
    """The instant the habilitation ends: midnight after `until`, in the lieu's zone."""
    if member.until is None:
        return None
    return datetime.combine(member.until + timedelta(days=1), time(), tzinfo=zone)


def outside_period(member: StaffSection, now: datetime, zone: ZoneInfo) -> str | None:
    """Why the person may not act at `now`, in French; None when habilitated."""
    day = now.astimezone(zone).date()
    if member.since is not None and day < member.since:
        return (
            f"{member.email} n'est habilité(e) qu'à partir du {member.since:%d/%m/%Y} "
            "([[staff]] since)"
        )
    if member.until is not None and day > member.until:
        return (
            f"{member.email} n'est plus habilité(e) : son habilitation a pris fin le "
            f"{member.until:%d/%m/%Y} ([[staff]] until)"
        )
    return None
