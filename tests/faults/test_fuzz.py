"""Fuzzing the feed reader (hypothesis, bounded): whatever bytes come, every outcome is a
header, an accepted demande or a refusal with a code; never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.feed import Accepted, Code, DocumentRefused, FeedHeader, Refused, RuleContext, read_feed
from intake.feed.model import DocumentPdf
from intake.feed.pdf import PdfMissingError
from tests.support.feeds import SAMPLE_PDF, SAMPLES, Dem, feed_xml, numero
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
                     b"</demande>", b"<demande>", b"]]>", b"<![CDATA[", b"&#x0;", b"\xc3"]
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
