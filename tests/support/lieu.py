"""The lieu of the samples (Corbas), its clock at NOW: what the tests and the benchmarks
ingest with."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from intake.clock import FixedClock
from intake.feed import FeedSchema
from intake.pipeline import Ingestor
from storage.vault import Vault

# The samples pass every rule between 2026-11-10 and 2027-05-02: the suite lives inside.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")


def make_ingestor(
    engine: Engine, vault: Vault, schema: FeedSchema, clock: FixedClock | None = None
) -> Ingestor:
    """The worker's ingestion for the lieu of the samples (Corbas), its clock at NOW."""
    return Ingestor(
        engine=engine,
        vault=vault,
        schema=schema,
        clock=clock or FixedClock(NOW),
        communes=frozenset({"69273"}),
        timezone=PARIS,
        retrieval_days=15,
        actor="l.feuga@ville-corbas.fr",
    )
