"""What `intake status` reports, and its verdict in the monitoring plugins' convention
(Nagios, Icinga, Zabbix's agent): 0 all is well, 1 a warning, 2 critical, with one summary
line first. Nothing personal: communes, counts and dates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from intake import obligations
from intake.convention import coverage, deadlines
from intake.habilitation import outside_period
from intake.obligations import CRITICAL, OK, WARNING
from storage.health import Snapshot, failing_since, quick_read, read_engine

if TYPE_CHECKING:  # a supervision probe runs `intake status` every minute: no SQLAlchemy
    from sqlalchemy import Engine

    from intake.config import Config
    from intake.wiring import Parts

WORDS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL"}
FAILING_TOO_LONG = timedelta(days=1)
POLLS_OF_SILENCE = 3  # a heartbeat older than three poll periods: the service is not working


@dataclass(frozen=True)
class CommuneHealth:
    insee: str
    name: str
    last_success: datetime | None
    last_error: datetime | None
    error_code: str | None
    failing_since: datetime | None


@dataclass
class Health:
    communes: list[CommuneHealth]
    overdue: int
    unsigned: int
    queued: int
    failed: int
    service: str  # running, silent, stopped
    workers: list[Any]
    problems: list[tuple[int, str]] = field(default_factory=list)

    @property
    def code(self) -> int:
        return max((level for level, _ in self.problems), default=OK)

    def summary(self) -> str:
        """The plugin's first line: the verdict and the worst problems, or that all is well."""
        worst = [text for level, text in self.problems if level == self.code]
        text = " ; ".join(worst) if worst else "tout va bien"
        return f"INTAKE {WORDS[self.code]} - {text}"


def service_state(workers: list[Any], now: datetime) -> str:
    """`running`, `silent` (no heartbeat for twice the shortest interval: hung or killed) or
    `stopped` (no worker: never started, or stopped cleanly)."""
    if not workers:
        return "stopped"
    latest = workers[0]
    silent = (now - latest.beat_at).total_seconds() > 2 * latest.interval_seconds
    return "silent" if silent else "running"


def lieu_health(app: Parts, now: datetime) -> Health:
    """What `intake status` reports. On an SQLite database ready to be read, it is read with
    the standard library's driver alone (`storage.health.quick_read`); anything else goes
    through the app's engine, which makes, migrates or tightens the database first."""
    today = deadlines.local_date(now, app.config.timezone)
    snapshot = quick_read(app.config.database_url, today)
    if snapshot is None:
        snapshot = read_engine(app.engine, today)
    return assess(snapshot, app.config, now)


def health(engine: Engine, config: Config, now: datetime) -> Health:
    return assess(read_engine(engine, deadlines.local_date(now, config.timezone)), config, now)


def assess(snapshot: Snapshot, config: Config, now: datetime) -> Health:
    states = {s.insee: s for s in snapshot.communes}
    communes = []
    for commune in sorted(config.raw.communes, key=lambda c: c.name.casefold()):
        known = states.get(commune.insee)
        communes.append(
            CommuneHealth(
                insee=commune.insee,
                name=commune.name,
                last_success=known.last_success if known else None,
                last_error=known.last_error if known else None,
                error_code=known.last_error_code if known and known.last_error else None,
                failing_since=failing_since(known),
            )
        )
    workers = snapshot.workers
    result = Health(
        communes,
        snapshot.overdue,
        snapshot.unsigned,
        snapshot.queued,
        snapshot.failed,
        service_state(workers, now),
        workers,
    )
    result.problems = _problems(result, config, now)
    overdue = obligations.assess(
        snapshot.purge_late,
        snapshot.purge_today,
        snapshot.late_attestations,
        snapshot.kept_months,
        snapshot.first_event_at,
        config,
        now,
    )
    result.problems += [(o.level, o.text) for o in overdue]
    return result


def _problems(result: Health, config: Config, now: datetime) -> list[tuple[int, str]]:
    problems: list[tuple[int, str]] = []
    if not result.workers:
        problems.append((CRITICAL, "service arrêté (intake run)"))
    else:
        beat = result.workers[0].beat_at
        period = timedelta(minutes=config.raw.extranet.poll_minutes if config.raw.extranet else 30)
        if now - beat > POLLS_OF_SILENCE * period:
            problems.append((CRITICAL, f"service muet depuis {_hours(now - beat)}"))
        elif result.service == "silent":
            problems.append((WARNING, f"service muet depuis {_hours(now - beat)}"))
    for commune in result.communes:
        if commune.failing_since is None:
            continue
        level = CRITICAL if now - commune.failing_since > FAILING_TOO_LONG else WARNING
        problems.append(
            (
                level,
                f"{commune.name} ({commune.insee}) en erreur depuis "
                f"{_hours(now - commune.failing_since)} [{commune.error_code}]",
            )
        )
    today = deadlines.local_date(now, config.timezone)
    gaps = coverage.uncovered(config, today)
    if gaps:
        problems.append(
            (CRITICAL, f"non récupérée(s), aucun compte extranet utilisable : {', '.join(gaps)}")
        )
    for account in coverage.not_habilitated(config, today):
        why = outside_period(account.member, now, config.timezone)
        problems.append((WARNING, f"compte extranet de {account.member.name} inutilisé : {why}"))
    if result.overdue:
        problems.append((WARNING, f"{result.overdue} demande(s) en retard de récupération"))
    if result.unsigned:
        problems.append((WARNING, f"{result.unsigned} attestation(s) de destruction à signer"))
    if result.failed:
        problems.append((WARNING, f"{result.failed} courriel(s) en échec"))
    return problems


def _hours(span: timedelta) -> str:
    hours = int(span.total_seconds() // 3600)
    return f"{hours} h" if hours < 48 else f"{hours // 24} jours"
