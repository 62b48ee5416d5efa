"""Several extranet accounts, each a habilitated person's own, together covering annexe 1;
a commune no account covers is named by check-config and status."""

from __future__ import annotations

from intake import config as configuration
from intake.convention import coverage
from intake.ops.status import CRITICAL, health
from storage import heartbeats
from storage.db import transaction
from tests.support.lieu import NOW

TODAY = NOW.date()

ONE_ACCOUNT = (
    '\n[extranet]\nurl = "https://extranet.example/partenaires"\n'
    'account = "l.feuga@ville-corbas.fr"\npassword_env = "PW_FEUGA"\n'
)
TWO_ACCOUNTS = (
    '\n[extranet]\nurl = "https://extranet.example/partenaires"\n'
    '\n[[extranet.accounts]]\naccount = "l.feuga@ville-corbas.fr"\npassword_env = "PW_FEUGA"\n'
    '\n[[extranet.accounts]]\naccount = "accueil@ville-bron.fr"\npassword_env = "PW_BRON"\n'
)


def reload(lieu_config, extra: str):
    path = lieu_config.path
    path.write_text(path.read_text() + extra, encoding="utf-8")
    return configuration.load(path, {})


def test_one_account_leaves_bron_uncovered(engine, lieu_config):
    config = reload(lieu_config, ONE_ACCOUNT)
    assert coverage.uncovered(config, TODAY) == ["Bron (69029)"]
    with transaction(engine) as session:
        heartbeats.beat(session, "w", NOW, 60, True)
    result = health(engine, config, NOW)
    assert result.code == CRITICAL and "Bron (69029)" in result.summary()


def test_two_accounts_cover_annexe_1(lieu_config):
    config = reload(lieu_config, TWO_ACCOUNTS)
    assert coverage.uncovered(config, TODAY) == []
    assigned = {c.member.email: c.communes for c in coverage.accounts(config, TODAY)}
    assert assigned == {"l.feuga@ville-corbas.fr": ["69273"], "accueil@ville-bron.fr": ["69029"]}
    missing = {p.key for p in config.missing_secrets({})}
    assert missing == {"extranet.accounts[0].password_env", "extranet.accounts[1].password_env"}


def test_an_account_cannot_take_a_commune_its_person_has_not(lieu_config):
    text = TWO_ACCOUNTS.replace(
        'password_env = "PW_BRON"\n', 'password_env = "PW_BRON"\ncommunes = ["69273"]\n'
    )
    path = lieu_config.path
    path.write_text(path.read_text() + text, encoding="utf-8")
    try:
        configuration.load(path, {})
    except configuration.ConfigError as exc:
        assert [p.key for p in exc.problems] == ["extranet.accounts[1].communes"]
    else:
        raise AssertionError("a commune outside the person's habilitation was accepted")
