"""Which extranet account retrieves which commune, and which commune of annexe 1 none does.

Each account is a habilitated person's own (the convention forbids shared accounts); a
person's account sees the communes the Caf gave that person. A commune of annexe 1 that no
configured account covers is never retrieved: `check-config` and `status` name it.
An account is used only while its person is habilitated (`[[staff]] since`/`until`); the
communes of a person whose habilitation ended show as uncovered until another account
covers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel

from intake.config import Config, ExtranetAccountSection, StaffSection
from intake.habilitation import habilitated_on


@dataclass(frozen=True)
class AccountCoverage:
    account: ExtranetAccountSection
    member: StaffSection
    communes: list[str]  # sorted INSEE codes
    secret_section: BaseModel  # where its password is configured


def accounts(config: Config, day: date) -> list[AccountCoverage]:
    """The accounts of persons habilitated on `day` (the lieu's date): the only ones
    retrieval may use."""
    return [a for a in configured(config) if habilitated_on(a.member, day)]


def not_habilitated(config: Config, day: date) -> list[AccountCoverage]:
    """The accounts left unused because their person is not habilitated on `day`."""
    return [a for a in configured(config) if not habilitated_on(a.member, day)]


def configured(config: Config) -> list[AccountCoverage]:
    extranet = config.raw.extranet
    if extranet is None:
        return []
    covered = []
    for account in extranet.all_accounts():
        member = config.staff_member(account.account)
        assert member is not None  # checked when the configuration was loaded
        mine = config.staff_communes(member)
        communes = sorted(set(account.communes) & mine if account.communes else mine)
        section: BaseModel = account if extranet.accounts else extranet
        covered.append(AccountCoverage(account, member, communes, section))
    return covered


def uncovered_codes(config: Config, day: date) -> list[str]:
    """The INSEE codes of annexe 1 no usable account retrieves on `day`, in annexe order."""
    if config.raw.extranet is None:
        return []
    seen = {insee for account in accounts(config, day) for insee in account.communes}
    return [c.insee for c in config.raw.communes if c.insee not in seen]


def uncovered(config: Config, day: date) -> list[str]:
    """The communes of annexe 1 no usable account retrieves on `day`, « Bron (69029) », in
    annexe order."""
    return [f"{config.commune_name(c)} ({c})" for c in uncovered_codes(config, day)]


@dataclass(frozen=True)
class Ending:
    """A habilitation that ends, and what its extranet account leaves uncovered."""

    member: StaffSection
    day: date  # the first day the account is no longer used
    communes: list[str]  # « Bron (69029) », covered by no other account from that day


def endings(config: Config) -> list[Ending]:
    """Each extranet account whose person's habilitation ends (`until`), with the communes
    nobody retrieves any more from the next day; empty lists when others cover them."""
    found = []
    for account in configured(config):
        if account.member.until is None:
            continue
        day = account.member.until + timedelta(days=1)
        gaps = [c for c in uncovered_codes(config, day) if c in account.communes]
        names = [f"{config.commune_name(c)} ({c})" for c in gaps]
        found.append(Ending(account.member, day, names))
    return found
