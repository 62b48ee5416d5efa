from lxml import etree

from intake.feed.schema import MAX_EXPLANATION_CHARS, FeedSchema
from tests.support.feeds import SAMPLES, Dem, Resp, feed_xml, numero

NS = "{urn:monenfant-intake:flux-demandes:1}"


def first_demande(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode()).find(NS + "demande")


def test_the_sample_feed_is_valid(schema: FeedSchema):
    assert schema.is_valid(etree.parse(str(SAMPLES / "flux-69273-corbas.xml")))


def test_names_in_any_script_are_valid(schema: FeedSchema):
    for nom in (
        "Lefèvre-Dupont",
        "N'Diaye",
        "Œlschläger",
        "Nguyễn",
        "王",
        "Ísgerður",
        "D’Artagnan",
    ):
        element = first_demande(feed_xml([Dem(numero(1), responsables=[Resp(nom=nom)])]))
        assert schema.is_valid(element), nom


def test_names_rule_is_exact_where_libxml2_is_loose():
    from tests.unit.test_rules import CTX, codes, demande, responsable

    ok = demande(responsables=(responsable().model_copy(update={"nom": "李小龍"}),))
    emoji = demande(responsables=(responsable().model_copy(update={"nom": "Léo 😀"}),))
    assert codes(ok, CTX) == []
    assert codes(emoji, CTX) == ["schema-invalide"]


def test_explanations_name_the_path_and_never_the_value(schema: FeedSchema):
    xml = feed_xml([Dem(numero(1), responsables=[Resp(nom="Dup0nt", telephone="abc")])])
    xml = xml.replace("<codePostal>69960</codePostal>", "<codePostal>6996X</codePostal>")
    element = first_demande(xml)
    assert not schema.is_valid(element)
    text = " | ".join(schema.explain(element))
    assert "/demande/famille/responsable/nom" in text
    assert "codePostal" in text
    for value in ("Dup0nt", "6996X", "abc"):
        assert value not in text


def test_missing_and_unexpected_elements_are_explained(schema: FeedSchema):
    xml = feed_xml([Dem(numero(1))]).replace("<dateDebut>2027-09-01</dateDebut>", "")
    text = " ".join(schema.explain(first_demande(xml)))
    assert "dateDebut" in text


def test_dates_without_offset_are_invalid(schema: FeedSchema):
    xml = feed_xml([Dem(numero(1), depot="2026-11-02T20:41:00")])
    assert not schema.is_valid(first_demande(xml))


def test_an_explanation_never_raises(schema: FeedSchema):
    # xmlschema raises OverflowError on a year of 11 digits, which lxml's XSD accepts; with a
    # second fault the demande is invalid and explained: the reader must not crash.
    demande = first_demande(
        feed_xml([Dem(numero(1), depot="99999999999-11-02T20:41:00+01:00",
                      responsables=[Resp(nom="Dup0nt")])])
    )  # fmt: skip
    assert not schema.is_valid(demande)
    explanations = schema.explain(demande)
    assert explanations and all(isinstance(e, str) and e for e in explanations)
    assert "99999999999" not in " ".join(explanations)


def test_an_explanation_is_bounded_in_size(schema: FeedSchema):
    # Thousands of attributes (the guard refuses them first; the explanation must hold alone).
    crowded = "".join(f' a{i}="{"x" * 50}"' for i in range(1000))
    xml = Dem(numero(1)).xml().replace("<enfant>", f"<enfant{crowded}>")
    demande = first_demande(feed_xml([Dem(numero(1), raw=xml)]))
    explanations = schema.explain(demande)
    assert 0 < len(" ; ".join(explanations)) <= MAX_EXPLANATION_CHARS
