from pathlib import Path

import pytest

from intake.feed import Accepted, Refused, RuleContext, read_feed
from intake.feed.errors import Code
from intake.feed.guard import MAX_ATTRIBUTES, check_document
from tests.support.feeds import SAMPLE_PDF, Dem, feed_xml, numero
from tests.support.lieu import NOW, PARIS

VALID = feed_xml([Dem(numero(1))]).encode()
HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def verdict(tmp_path: Path, content: bytes) -> Code | None:
    path = tmp_path / "flux.xml"
    path.write_bytes(content)
    result = check_document(path)
    return None if result.violation is None else result.violation.code


def test_a_valid_feed_passes(tmp_path):
    assert verdict(tmp_path, VALID) is None


@pytest.mark.parametrize(
    "document",
    [
        HEAD + b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        HEAD
        + b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>'
        + b"<r>&b;</r>",
        HEAD + b'<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>',
        HEAD + b"<!DOCTYPE fluxDemandes>" + VALID[len(HEAD) :],
        VALID.replace(b"</fluxDemandes>", b"<?php system('x'); ?></fluxDemandes>"),
        VALID.replace(b"<commune ", b"<?xml-stylesheet href='x'?><commune "),
        HEAD + b"<r>" + b"<a>" * 100 + b"</a>" * 100 + b"</r>",
        # dangerous even when also malformed
        HEAD + b'<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</oops>',
    ],
)
def test_dangerous_documents(tmp_path, document):
    assert verdict(tmp_path, document) == Code.XML_DANGEREUX


@pytest.mark.parametrize(
    "document",
    [
        VALID[:-40],  # truncated
        VALID.replace(b"Corbas</commune>", b"Corbas</commun>"),
        VALID.replace(b"Corbas</commune>", b"Corb\xff\xfeas</commune>"),  # invalid UTF-8
        VALID.replace(b"Corbas</commune>", b"Corb\x00as</commune>"),  # NUL byte
        VALID.replace(b"<prenom>L\xc3\xa9o", b"<prenom>&unknown;"),  # undeclared entity
        HEAD.replace(b"UTF-8", b"ISO-8859-1") + VALID[len(HEAD) :],
        b"",
        VALID + b"<second/>",
    ],
)
def test_malformed_documents(tmp_path, document):
    assert verdict(tmp_path, document) == Code.XML_MALFORME


@pytest.mark.parametrize(
    "document",
    [
        VALID.replace(b"urn:monenfant-intake:flux-demandes:1", b"urn:autre"),
        VALID.replace(b"</fluxDemandes>", b"<intrus/></fluxDemandes>"),
        HEAD + b'<fluxDemandes xmlns="urn:monenfant-intake:flux-demandes:1" version="1.0" '
        b'genereLe="2026-11-20T06:00:00+01:00"/>',
    ],
)
def test_wrong_envelope_shape_is_refused_before_anything_is_read(tmp_path, document):
    assert verdict(tmp_path, document) == Code.SCHEMA_INVALIDE


def test_unreadable_path(tmp_path):
    assert check_document(tmp_path / "absent.xml").violation.code == Code.XML_MALFORME


# --- elements with more attributes than the schema can hold ------------------------------------


def _xsd_attributes_per_element() -> int:
    """The most attributes the XSD declares on one element (each complexType's own)."""
    from importlib import resources

    from lxml import etree

    xs = "{http://www.w3.org/2001/XMLSchema}"
    with resources.files("schemas").joinpath("flux-demandes-v1.xsd").open("rb") as stream:
        tree = etree.parse(stream)
    return max(
        sum(1 for a in t.iter(xs + "attribute") if next(a.iterancestors(xs + "complexType")) is t)
        for t in tree.iter(xs + "complexType")
    )


def test_the_attribute_limit_holds_every_element_the_schema_allows():
    # Each element's own attributes, plus xsi:type, nil, schemaLocation and
    # noNamespaceSchemaLocation that any instance may carry, plus room for namespace declarations.
    assert _xsd_attributes_per_element() + 4 < MAX_ATTRIBUTES <= 64


def crowded(count: int) -> str:
    return "".join(f' a{i}="x"' for i in range(count))


def test_an_envelope_element_with_thousands_of_attributes_refuses_the_feed(tmp_path):
    document = VALID.replace(b'<commune codeInsee="69273"', b"<commune" + crowded(4000).encode()
                             + b' codeInsee="69273"')  # fmt: skip
    path = tmp_path / "flux.xml"
    path.write_bytes(document)
    violation = check_document(path).violation
    assert violation is not None and violation.code == Code.SCHEMA_INVALIDE
    assert "commune" in violation.message and str(MAX_ATTRIBUTES) in violation.message


@pytest.mark.parametrize("where", ["demande ", "enfant>", "documentPdf "])
def test_a_demande_with_thousands_of_attributes_is_refused_alone(schema, where):
    """The attack: 4,000 attributes made the French explanation run for minutes while the
    valid demandes behind waited. Refused at once, briefly; the next demande is read."""
    tag = where[:-1]
    bad = Dem(numero(2)).xml().replace(f"<{where}", f"<{tag}{crowded(4000)}{where[-1]}", 1)
    document = feed_xml([Dem(numero(1)), Dem(numero(2), raw=bad), Dem(numero(3))]).encode()
    ctx = RuleContext(frozenset({"69273"}), PARIS, NOW)
    outcomes = list(read_feed(document, schema=schema, ctx=ctx, pdfs=EveryPdf()))
    first, refused, last = outcomes[1:]
    assert isinstance(first, Accepted) and isinstance(last, Accepted)
    assert isinstance(refused, Refused) and refused.numero == numero(2)
    (violation,) = refused.violations
    assert violation.code == Code.SCHEMA_INVALIDE
    assert f"« {tag} »" in violation.message and str(MAX_ATTRIBUTES) in violation.message
    assert len(violation.message) < 300


class EveryPdf:
    def fetch(self, document, numero):  # type: ignore[no-untyped-def]
        return SAMPLE_PDF


def test_thousands_of_namespace_declarations_count_as_attributes(schema):
    declarations = "".join(f' xmlns:p{i}="urn:x{i}"' for i in range(4000))
    bad = Dem(numero(2)).xml().replace("<enfant>", f"<enfant{declarations}>", 1)
    document = feed_xml([Dem(numero(1)), Dem(numero(2), raw=bad), Dem(numero(3))]).encode()
    ctx = RuleContext(frozenset({"69273"}), PARIS, NOW)
    first, refused, last = list(read_feed(document, schema=schema, ctx=ctx, pdfs=EveryPdf()))[1:]
    assert isinstance(first, Accepted) and isinstance(last, Accepted)
    assert isinstance(refused, Refused) and "« enfant »" in refused.violations[0].message
