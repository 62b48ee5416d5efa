"""What every command needs, built once from the configuration: database, vault, schema, clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine

from intake.clock import Clock, SystemClock
from intake.config import Config
from intake.feed import FeedSchema
from intake.pipeline import Ingestor
from storage.db import make_engine, upgrade
from storage.vault import Vault


@dataclass
class App:
    config: Config
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.config.database_url)
        upgrade(engine)
        return engine

    @cached_property
    def vault(self) -> Vault:
        return Vault.from_file(self.config.key_file)

    @cached_property
    def schema(self) -> FeedSchema:
        return FeedSchema()

    def ingestor(self, actor: str) -> Ingestor:
        return Ingestor(
            engine=self.engine,
            vault=self.vault,
            schema=self.schema,
            clock=self.clock,
            communes=self.config.commune_codes,
            timezone=self.config.timezone,
            retrieval_days=self.config.retrieval_days,
            actor=actor,
        )
