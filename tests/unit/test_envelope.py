"""The feed's envelope: a date the XSD allows and Python cannot read is no date, not a
crash that would abort a whole poll pass (issue 15, defect 1)."""

from __future__ import annotations

from intake.feed import Accepted, FeedHeader, FeedSchema, RuleContext, read_feed
from tests.support.feeds import SAMPLE_PDF, Dem, feed_xml, numero
from tests.support.lieu import NOW, PARIS

CONTEXT = RuleContext(frozenset({"69273"}), PARIS, NOW)


class SamplePdf:
    def fetch(self, document: object, numero: str) -> bytes:
        return SAMPLE_PDF


def test_a_generation_date_past_year_9999_reads_as_none(schema: FeedSchema):
    document = feed_xml([Dem(numero(1)), Dem(numero(2))]).replace(
        'genereLe="2026-11-20T06:00:00+01:00"', 'genereLe="22026-11-25T06:00:00+01:00"'
    )
    assert "22026-11-25" in document
    outcomes = list(read_feed(document.encode(), schema=schema, ctx=CONTEXT, pdfs=SamplePdf()))
    header = outcomes[0]
    assert isinstance(header, FeedHeader) and header.generated_at is None
    assert [o.numero for o in outcomes[1:] if isinstance(o, Accepted)] == [numero(1), numero(2)]
