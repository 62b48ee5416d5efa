"""Which extranet account retrieves which commune, and which commune of annexe 1 none does.

Each account is a habilitated person's own (the convention forbids shared accounts); a
person's account sees the communes the Caf gave that person. A commune of annexe 1 that no
configured account covers is never retrieved: `check-config` and `status` name it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from intake.config import Config, ExtranetAccountSection, StaffSection


@dataclass(frozen=True)
class AccountCoverage:
    account: ExtranetAccountSection
    member: StaffSection
    communes: list[str]  # sorted INSEE codes
    secret_section: BaseModel  # where its password is configured


def accounts(config: Config) -> list[AccountCoverage]:
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


def uncovered(config: Config) -> list[str]:
    """The communes of annexe 1 no account retrieves, « Bron (69029) », in annexe order."""
    if config.raw.extranet is None:
        return []
    seen = {insee for account in accounts(config) for insee in account.communes}
    return [f"{c.name} ({c.insee})" for c in config.raw.communes if c.insee not in seen]
