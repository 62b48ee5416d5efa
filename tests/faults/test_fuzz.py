"""Fuzzing the feed reader (hypothesis, bounded): whatever bytes come, every outcome is a
header, an accepted demande or a refusal with a code; never another exception. Values out of
every range (years of 5 to 12 digits, huge integers in every numeric field) refuse their own
demande only: the valid demandes of the same feed are stored."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from intake.feed import Accepted, Code, DocumentRefused, FeedHeader, Refused, RuleContext, read_feed
from intake.feed.model import DocumentPdf
from intake.feed.pdf import PdfMissingError
from intake.pipeline import Line, Result
from storage.db import transaction
from storage.models import DemandeRow, Status
from tests.support.feeds import SAMPLE_PDF, SAMPLES, Dem, feed_xml, numero, write_feed
from tests.support.lieu import NOW, PARIS

SEEDS = [
    (SAMPLES / "flux-69273-corbas.xml").read_bytes(),
    feed_xml([Dem(numero(1), commentaire="a & b"), Dem(numero(2))]).encode("utf-8"),
]
CONTEXT = RuleContext(frozenset({"69273"}), PARIS, NOW)
CODES = set(Code)


class AnyPdf:
    """The sample PDF for any name; nothing at all for some."""

    def fetch(self, document: DocumentPdf, numero: str) -> bytes:
        if document.nom.endswith("3.pdf"):
            raise PdfMissingError(document.nom)
        return SAMPLE_PDF[: document.taille + 1]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate"]))
        if action == "flip" and data:
            data[where] = draw(st.integers(0, 255))
        elif action == "delete":
            del data[where : where + draw(st.integers(1, 64))]
        elif action == "insert":
            chunk = draw(
                st.sampled_from(
                    [b"<", b">", b"&", b"&amp;", b"<!DOCTYPE x>", b"\x00", b"\xff\xfe", b'"',
                     b"</demande>", b"<demande>", b"]]>", b"<![CDATA[", b"&#x0;", b"\xc3",
                     b"99999999999", b"-999999999999", b"9" * 40, b"+14:00", b"-14:00"]
                )
            )  # fmt: skip
            data[where:where] = chunk
        elif action == "duplicate":
            span = data[where : where + draw(st.integers(1, 400))]
            data[where:where] = span
        else:
            del data[where:]
    return bytes(data)


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(document=mutated())
def test_the_reader_only_ever_refuses_with_a_code(schema, document):
    for outcome in read_feed(document, schema=schema, ctx=CONTEXT, pdfs=AnyPdf()):
        if isinstance(outcome, FeedHeader):
            continue
        if isinstance(outcome, Accepted):
            loaded = outcome.load_pdf()
            assert isinstance(loaded, bytes) or loaded.code in CODES
            continue
        assert isinstance(outcome, DocumentRefused | Refused)
        violations = (
            [outcome.violation] if isinstance(outcome, DocumentRefused) else outcome.violations
        )
        assert violations and all(v.code in CODES and v.message for v in violations)


# --- values out of every range ---------------------------------------------------------------

_VALID = Dem(numero(1)).xml()

# Where a value goes in a demande, as a substitution of the valid demande's XML: every date
# and date-time of the spec, and every numeric field (attribute or element).
DATE_FIELDS = {
    "dateDepot": (r"<dateDepot>[^<]*", "<dateDepot>{}"),
    "dateTransmission": (r"<dateTransmission>[^<]*", "<dateTransmission>{}"),
    "dateNotification": (r"<dateNotification>[^<]*", "<dateNotification>{}"),
    "responsable/dateNaissance": (
        r"</prenom><adresse>",
        "</prenom><dateNaissance>{}</dateNaissance><adresse>",
    ),
    "enfant/dateNaissance": (r"<dateNaissance>[^<]*", "<dateNaissance>{}"),
    "dateNaissancePrevue": (
        r"<enfant>.*?</enfant>",
        "<enfantANaitre><dateNaissancePrevue>{}</dateNaissancePrevue></enfantANaitre>",
    ),
    "dateDebut": (r"<dateDebut>[^<]*", "<dateDebut>{}"),
}
NUMBER_FIELDS = {
    "taille": (r'taille="[0-9]+"', 'taille="{}"'),
    "nombreEnfantsFoyer": (
        r"</responsable>",
        "</responsable><nombreEnfantsFoyer>{}</nombreEnfantsFoyer>",
    ),
    "responsable/@rang": (r'responsable rang="1"', 'responsable rang="{}"'),
    "mode/@rang": (r'mode rang="1"', 'mode rang="{}"'),
}
_DATE_TIMES = {"dateDepot", "dateTransmission", "dateNotification"}


def with_value(number: int, field: str, value: str) -> Dem:
    pattern, replacement = {**DATE_FIELDS, **NUMBER_FIELDS}[field]
    xml = re.sub(pattern, replacement.format(value), Dem(numero(number)).xml(), count=1)
    assert xml != Dem(numero(number)).xml()
    return Dem(numero(number), raw=xml)


def out_of_range_dates(field: str) -> list[str]:
    """Years of 5 to 12 digits (and negative), and the edges of what Python can compute."""
    years = [str(10 ** (digits - 1) + 1) for digits in range(5, 13)] + ["9" * 12]
    years += ["-" + "9" * digits for digits in (4, 5, 12)]
    if field in _DATE_TIMES:
        values = [f"{year}-11-02T20:41:00+01:00" for year in years]
        return [
            *values,
            "9999-12-31T23:59:59-14:00",
            "9999-12-31T23:59:59+14:00",
            "0001-01-01T00:00:00+14:00",
            "0001-01-01T00:00:00-14:00",
        ]
    return [f"{year}-03-10" for year in years] + ["9999-12-31", "0001-01-01"]


HUGE_NUMBERS = ["9" * 20, "9" * 400, "9" * 4301, "-" + "9" * 30, "1" * 19, str(2**63)]


def values(field: str) -> list[str]:
    return out_of_range_dates(field) if field in DATE_FIELDS else HUGE_NUMBERS


@pytest.mark.parametrize("field", [*DATE_FIELDS, *NUMBER_FIELDS])
def test_a_value_out_of_range_refuses_its_demande_and_no_other(ingestor, engine, tmp_path, field):
    """Each hostile value between two valid demandes of one feed: the valid ones are stored,
    each hostile one is refused with a code and a French message, and nothing escapes."""
    demandes, valid, hostile = [Dem(numero(1))], {numero(1)}, []
    for index, value in enumerate(values(field)):
        bad, good = 100 + 2 * index, 101 + 2 * index
        demandes += [with_value(bad, field, value), Dem(numero(good))]
        hostile.append(numero(bad))
        valid.add(numero(good))
    path = write_feed(tmp_path / "flux", demandes)
    for number in hostile:  # the hostile demandes' PDFs are there too: only the value is wrong
        (path.parent / f"{number}.pdf").write_bytes(SAMPLE_PDF)
    lines = [x for x in ingestor.ingest_file(path) if isinstance(x, Line)]
    results = {line.numero: line for line in lines}
    assert {n for n, line in results.items() if line.result == Result.INGESTED} == valid
    refused = [line for line in lines if line.result == Result.REFUSED]
    assert len(refused) == len(hostile)
    assert all(line.code in CODES and line.message for line in refused)
    with transaction(engine) as session:
        rows = {r.numero: r for r in session.exec(select(DemandeRow)).scalars()}
    assert {n for n, r in rows.items() if r.status == Status.RECEIVED} == valid


@pytest.mark.parametrize("digits", range(5, 13))
@pytest.mark.parametrize("field", list(DATE_FIELDS))
def test_a_year_of_many_digits_is_schema_invalid_named_by_its_element(schema, field, digits):
    year = "9" * digits
    value = f"{year}-11-02T20:41:00+01:00" if field in _DATE_TIMES else f"{year}-03-10"
    document = feed_xml([Dem(numero(1)), with_value(2, field, value), Dem(numero(3))])
    outcomes = [o for o in read_feed(document.encode(), schema=schema, ctx=CONTEXT, pdfs=AnyPdf())]
    first, refused, last = outcomes[1:]
    assert isinstance(first, Accepted) and isinstance(last, Accepted)
    assert isinstance(refused, Refused) and refused.numero == numero(2)
    (violation,) = refused.violations
    assert violation.code == Code.SCHEMA_INVALIDE
    assert field.rsplit("/", 1)[-1] in violation.message and "date" in violation.message
    assert year not in violation.message  # a value is never quoted


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from([*DATE_FIELDS, *NUMBER_FIELDS]),
    value=st.one_of(
        st.integers(min_value=-(10**60), max_value=10**60).map(str),
        st.tuples(
            st.integers(-(10**13), 10**13),
            st.integers(0, 99),
            st.integers(0, 99),
            st.sampled_from(["", "T00:00:00Z", "T23:59:59+14:00", "T00:00:00-14:00"]),
        ).map(lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}{t[3]}"),
    ),
)
def test_any_number_anywhere_leaves_the_other_demandes_alone(schema, field, value):
    document = feed_xml([Dem(numero(1)), with_value(2, field, value), Dem(numero(3))])
    outcomes = [o for o in read_feed(document.encode(), schema=schema, ctx=CONTEXT, pdfs=AnyPdf())]
    assert len(outcomes) == 4
    first, middle, last = outcomes[1:]
    assert isinstance(first, Accepted) and isinstance(last, Accepted)
    if isinstance(middle, Refused):
        assert all(v.code in CODES and v.message for v in middle.violations)
