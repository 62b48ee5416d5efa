"""A database made before the key store (data keys wrapped by the master key itself) is
converted at the first unlock: every data key re-wrapped by its purge day's key, once,
recorded; a demande whose purge day's key was already destroyed is left to the purge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import select

from intake.app import App
from intake.clock import FixedClock
from intake.config import Config
from storage import demandes as store
from storage.db import transaction
from storage.models import AuditEvent, BlobKind, DemandeKey
from tests.support.lieu import PARIS
from tests.support.retention import hold

NOW = datetime.fromisoformat("2026-06-20T10:00:00+02:00")
NUMEROS = ["ME-2026-0000001", "ME-2026-0000002"]


def app_at(config: Config, engine: Engine) -> App:
    app = App(config, FixedClock(NOW))
    app.__dict__["engine"] = engine
    return app


def make_legacy(app: App) -> None:
    """As the code before the key store left them: wrapped by the master key, no key_date."""
    with transaction(app.engine) as session:
        for key in session.exec(select(DemandeKey)).all():
            data_key = app.vault.unwrap(key.wrapped_key, key.numero, key.key_date)
            session.execute(
                update(DemandeKey)
                .where(DemandeKey.numero == key.numero)
                .values(wrapped_key=app.vault.wrap_legacy(data_key, key.numero), key_date=None)
            )
    for path in app.config.keys_dir.glob("*.cle"):
        path.unlink()


def test_the_first_unlock_rewraps_every_legacy_key_once(engine: Engine, lieu_config: Config):
    first = app_at(lieu_config, engine)
    transmitted = datetime.fromisoformat("2026-03-10T09:00:00+01:00")
    for numero in NUMEROS:
        hold(engine, first.vault, numero, transmitted, PARIS)
    make_legacy(first)

    converted = app_at(lieu_config, engine)
    vault = converted.vault  # the unlock converts
    with transaction(engine) as session:
        keys = session.exec(select(DemandeKey)).all()
        assert {str(k.key_date) for k in keys} == {"2026-09-10"}
        for numero in NUMEROS:
            secret = store.read_secret(session, vault, numero, BlobKind.RECORD)
            assert secret == f"famille secrète de {numero}".encode()
        events = session.exec(
            select(AuditEvent).where(AuditEvent.action == "cles-par-echeance")
        ).all()
    assert [e.detail for e in events] == ['{"cles_rechiffrees":2}']
    assert (lieu_config.keys_dir / "2026-09-10.cle").exists()

    app_at(lieu_config, engine).vault  # noqa: B018 - unlocking again changes nothing
    with transaction(engine) as session:
        again = session.exec(
            select(AuditEvent).where(AuditEvent.action == "cles-par-echeance")
        ).all()
    assert len(again) == 1


def test_a_legacy_key_of_a_destroyed_day_is_left_to_the_purge(engine: Engine, lieu_config: Config):
    first = app_at(lieu_config, engine)
    hold(engine, first.vault, NUMEROS[0], datetime.fromisoformat("2026-01-10T09:00+01:00"), PARIS)
    make_legacy(first)
    first.vault.keys.destroy_through(datetime.fromisoformat("2026-07-31").date())

    app_at(lieu_config, engine).vault  # noqa: B018
    with transaction(engine) as session:
        (key,) = session.exec(select(DemandeKey)).all()
    assert key.key_date is None  # no key made for a destroyed day: the purge destroys it
    assert not list(lieu_config.keys_dir.glob("*.cle"))


def test_the_attestation_of_converted_demandes_says_older_backups_still_open_them(
    engine: Engine, lieu_config: Config
):
    """Their keys sat under the master key in every backup made before the conversion: the
    attestation must not claim that no backup, however old, can read them."""
    import json

    from intake.retention import Retention
    from storage.models import Attestation

    first = app_at(lieu_config, engine)
    hold(engine, first.vault, NUMEROS[0], datetime.fromisoformat("2026-01-10T09:00+01:00"), PARIS)
    make_legacy(first)
    converted = app_at(lieu_config, engine)
    converted.vault  # noqa: B018 - the unlock converts, on 20 June
    purging = App(lieu_config, FixedClock(datetime.fromisoformat("2026-07-01T04:00+02:00")))
    purging.__dict__["engine"] = engine
    Retention(lieu_config, engine, purging.vault, purging.clock, "système:test").purge()
    with transaction(engine) as session:
        attestation = session.exec(select(Attestation)).one()
    assert attestation.manifest is not None
    assert json.loads(attestation.manifest)["cles"]["cle_maitresse_jusqu_au"] == "2026-06-20"
