from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from intake.feed import rules
from intake.feed.errors import Code
from intake.feed.model import (
    Accueil,
    Adresse,
    Creneau,
    Demande,
    DocumentPdf,
    Enfant,
    EnfantANaitre,
    Mode,
    Responsable,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CTX = rules.RuleContext(frozenset({"69273"}), PARIS, NOW)
DEPOT = datetime(2026, 11, 2, 20, 41, tzinfo=PARIS)  # local deposit day: 2 November 2026


def responsable(rang=1, telephone="06 00 00 00 00", courriel=None):
    return Responsable(
        rang=rang,
        nom="Œlschläger",
        prenom="N'Diaye",
        adresse=Adresse(lignes=("1 rue",), code_postal="69960", ville="Corbas"),
        telephone=telephone,
        courriel=courriel,
    )


def demande(**changes):
    base = dict(
        numero="ME-2026-0000001",
        date_depot=DEPOT,
        date_transmission=DEPOT + timedelta(hours=9),
        date_notification=DEPOT + timedelta(hours=9, minutes=2),
        commune_insee="69273",
        commune_nom="Corbas",
        responsables=(responsable(),),
        enfants=(Enfant(prenom="Léo", date_naissance=date(2025, 3, 10)),),
        accueil=Accueil(
            modes=(Mode(rang=1, mode="creche-collective"),),
            date_debut=date(2027, 9, 1),
            frequence="reguliere",
        ),
        document=DocumentPdf(nom="a.pdf", sha256="0" * 64, taille=1),
    )
    base.update(changes)
    return Demande(**base)


def codes(d, ctx=CTX):
    return [v.code for v in rules.check(d, ctx)]


def test_a_valid_demande_breaks_no_rule():
    assert codes(demande()) == []


def test_commune_outside_annexe_1():
    assert codes(demande(commune_insee="69259")) == [Code.COMMUNE_NON_HABILITEE]


@pytest.mark.parametrize(
    "changes",
    [
        {"date_transmission": DEPOT - timedelta(seconds=1)},
        {"date_notification": DEPOT + timedelta(hours=8)},
        {"date_notification": NOW + timedelta(minutes=5, seconds=1)},
    ],
)
def test_dates_out_of_order_or_in_the_future(changes):
    assert Code.DATES_INCOHERENTES in codes(demande(**changes))


def test_five_minutes_in_the_future_is_tolerated():
    d = demande(date_notification=NOW + timedelta(minutes=5))
    assert codes(d) == []


@pytest.mark.parametrize(
    ("born", "ok"),
    [
        (date(2020, 11, 2), True),  # exactly 6 years before the deposit day
        (date(2020, 11, 3), True),  # 6 years minus a day
        (date(2020, 11, 1), False),  # 6 years plus a day
        (date(2026, 11, 2), True),  # born on the deposit day
        (date(2026, 11, 3), False),  # born after the deposit
    ],
)
def test_child_age_boundaries(born, ok):
    d = demande(enfants=(Enfant(prenom="Zoé", date_naissance=born),))
    assert codes(d) == ([] if ok else [Code.ENFANT_TROP_AGE])


@pytest.mark.parametrize(
    ("expected", "ok"),
    [
        (date(2026, 10, 2), True),  # deposit - 31 days
        (date(2026, 10, 1), False),
        (date(2027, 9, 3), True),  # deposit + 305 days
        (date(2027, 9, 4), False),
    ],
)
def test_expected_birth_boundaries(expected, ok):
    d = demande(enfants=(EnfantANaitre(date_naissance_prevue=expected),))
    assert codes(d) == ([] if ok else [Code.NAISSANCE_PREVUE_INCOHERENTE])


@pytest.mark.parametrize(
    "modes",
    [
        (Mode(rang=1, mode="creche-collective"), Mode(rang=2, mode="creche-collective")),
        (Mode(rang=1, mode="creche-collective"), Mode(rang=3, mode="garde-a-domicile")),
        (Mode(rang=2, mode="creche-collective"),),
        (Mode(rang=1, mode="creche-collective"), Mode(rang=1, mode="garde-a-domicile")),
    ],
)
def test_incoherent_modes(modes):
    accueil = demande().accueil.model_copy(update={"modes": modes})
    assert Code.MODES_INCOHERENTS in codes(demande(accueil=accueil))


def test_modes_ranked_in_any_order_are_fine():
    accueil = demande().accueil.model_copy(
        update={
            "modes": (Mode(rang=2, mode="garde-a-domicile"), Mode(rang=1, mode="creche-collective"))
        }
    )
    assert codes(demande(accueil=accueil)) == []


@pytest.mark.parametrize(
    "planning",
    [
        (Creneau(jour="lundi", debut="08:30", fin="08:30"),),
        (Creneau(jour="lundi", debut="18:00", fin="08:00"),),
        (
            Creneau(jour="mardi", debut="08:00", fin="12:00"),
            Creneau(jour="mardi", debut="13:00", fin="17:00"),
        ),
    ],
)
def test_invalid_slots(planning):
    accueil = demande().accueil.model_copy(update={"planning": planning})
    assert codes(demande(accueil=accueil)) == [Code.CRENEAU_INVALIDE]


def test_contact_rules():
    assert codes(demande(responsables=(responsable(telephone=None),))) == [Code.CONTACT_MANQUANT]
    assert codes(demande(responsables=(responsable(telephone=None, courriel="a@b.fr"),))) == []
    assert codes(demande(responsables=(responsable(), responsable()))) == [Code.CONTACT_MANQUANT]
    assert codes(demande(responsables=(responsable(rang=2),))) == [Code.CONTACT_MANQUANT]
    # the second parent needs no contact of its own
    assert codes(demande(responsables=(responsable(), responsable(rang=2, telephone=None)))) == []


def test_already_expired_from_the_purge_day_on():
    transmitted = datetime(2026, 5, 23, 6, 0, tzinfo=PARIS)  # purge due 23 November 2026
    d = demande(
        date_depot=transmitted - timedelta(hours=1),
        date_transmission=transmitted,
        date_notification=None,
    )
    assert codes(d) == [Code.DEJA_EXPIREE]
    day_before = rules.RuleContext(CTX.communes, PARIS, datetime(2026, 11, 22, 22, 59, tzinfo=UTC))
    assert codes(d, day_before) == []


def test_messages_never_carry_personal_data():
    d = demande(
        enfants=(Enfant(prenom="Léo", date_naissance=date(2019, 1, 1)),),
        responsables=(responsable(telephone=None),),
    )
    text = " ".join(v.message for v in rules.check(d, CTX))
    for personal in ("Léo", "Œlschläger", "N'Diaye", "2019", "01/01/2019"):
        assert personal not in text
