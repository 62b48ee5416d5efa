"""Ingestion against real databases (SQLite file and the PostgreSQL server)."""

from __future__ import annotations

from hashlib import sha256

import pytest
from sqlalchemy import Engine, func, select

from intake.feed.model import RECORD
from intake.pipeline import Ingestor, Line, Result
from storage import demandes as store
from storage.db import transaction
from storage.models import (
    AuditEvent,
    BlobKind,
    DemandeBlob,
    DemandeKey,
    DemandeRow,
    Refusal,
    Status,
)
from tests.support.feeds import SAMPLE_PDF, Dem, Resp, every_violation, numero, write_feed


def lines(ingestor: Ingestor, path) -> list[Line]:
    return [x for x in ingestor.ingest_file(path) if isinstance(x, Line)]


def count(engine: Engine, model) -> int:
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()[0]


def snapshot(engine: Engine) -> dict[str, list]:
    with transaction(engine) as session:
        return {
            "demande": [r.model_dump() for r in session.exec(select(DemandeRow)).scalars()],
            "key": [(k.numero, k.wrapped_key) for k in session.exec(select(DemandeKey)).scalars()],
            "blob": [
                (b.numero, b.kind, b.ciphertext)
                for b in session.exec(select(DemandeBlob)).scalars()
            ],
            "audit": [e.hash for e in session.exec(select(AuditEvent)).scalars()],
            "refusal": [r.id for r in session.exec(select(Refusal)).scalars()],
        }


def test_the_samples_are_stored_encrypted_with_their_deadlines(ingestor, engine, vault, samples):
    result = lines(ingestor, samples / "flux-69273-corbas.xml")
    assert [(r.numero, r.result) for r in result] == [
        ("ME-2026-0000101", Result.INGESTED),
        ("ME-2026-0000102", Result.INGESTED),
        ("ME-2026-0000103", Result.INGESTED),
    ]
    with transaction(engine) as session:
        row = store.get(session, "ME-2026-0000101")
        assert row.status == Status.RECEIVED
        assert str(row.retrieval_due) == "2026-11-18" and str(row.purge_due) == "2027-05-03"
        record = RECORD.validate_json(
            store.read_secret(session, vault, row.numero, BlobKind.RECORD)
        )
        assert record.responsables[0].nom == "Bernard"
        pdf = store.read_secret(session, vault, row.numero, BlobKind.PDF)
        assert pdf == (samples / "ME-2026-0000101.pdf").read_bytes()
        assert b"Bernard" in store.read_secret(session, vault, row.numero, BlobKind.XML)
        # 102 has no dateNotification: the clock starts at the transmission (6 Nov) -> 21 Nov
        assert str(store.get(session, "ME-2026-0000102").retrieval_due) == "2026-11-21"


def test_ingesting_again_changes_nothing(ingestor, engine, samples):
    lines(ingestor, samples / "flux-69273-corbas.xml")
    before = snapshot(engine)
    again = lines(ingestor, samples / "flux-69273-corbas.xml")
    assert {r.result for r in again} == {Result.HELD}
    assert snapshot(engine) == before


def test_a_mixed_feed_stores_exactly_the_valid_demandes(ingestor, engine, tmp_path):
    bad = every_violation()
    valid = [Dem(numero(1)), Dem(numero(2), responsables=[Resp(nom="王", prenom="小龍")])]
    path = write_feed(tmp_path, [valid[0], *bad.values(), valid[1]])
    result = {r.numero: r for r in lines(ingestor, path)}
    assert result[numero(1)].result == result[numero(2)].result == Result.INGESTED
    for code, demande in bad.items():
        assert result[demande.numero].result == Result.REFUSED
        assert result[demande.numero].code == code, (code, result[demande.numero].message)
    with transaction(engine) as session:
        received = {r.numero for r in store.listing(session, status=Status.RECEIVED)}
        assert received == {numero(1), numero(2)}
        # refused for a rule: an encrypted quarantine copy, under the same retention
        quarantined = store.get(session, bad["enfant-trop-age"].numero)
        assert quarantined.status == Status.QUARANTINED and quarantined.purge_due is not None
        assert store.has_secret(session, quarantined.numero, BlobKind.QUARANTINE_XML)
        # not meant for this lieu, or already past retention: nothing personal at all
        for code in ("commune-non-habilitee", "deja-expiree"):
            assert store.get(session, bad[code].numero) is None
            keys = session.exec(select(DemandeKey).where(DemandeKey.numero == bad[code].numero))
            assert keys.first() is None
        codes = {r.code for r in session.exec(select(Refusal)).scalars()}
        assert codes == set(bad)


def test_a_quarantine_keeps_a_pdf_only_if_it_is_the_declared_one(ingestor, engine, tmp_path):
    """Bytes of the declared size but not its SHA-256 (or not a PDF) are not the family's PDF:
    whatever file stood there (the master key, behind a link or a copy) is never kept, while
    a demande refused for a content rule keeps its real PDF for the agents (issue 21, item 1)."""
    secret = b"K" * len(SAMPLE_PDF)
    swapped = Dem(
        numero(21), pdf=secret, declared_pdf=(sha256(SAMPLE_PDF).hexdigest(), len(secret))
    )
    not_pdf = Dem(numero(22), pdf=secret)  # its hash matches, but it is no PDF
    too_old = every_violation()["enfant-trop-age"]
    lines(ingestor, write_feed(tmp_path, [swapped, not_pdf, too_old]))
    with transaction(engine) as session:
        for dem in (swapped, not_pdf):
            assert store.get(session, dem.numero).status == Status.QUARANTINED
            assert store.has_secret(session, dem.numero, BlobKind.QUARANTINE_XML)
            assert not store.has_secret(session, dem.numero, BlobKind.QUARANTINE_PDF)
        assert store.has_secret(session, too_old.numero, BlobKind.QUARANTINE_PDF)


def test_messages_name_the_demande_and_rule_but_no_personal_data(ingestor, tmp_path):
    demande = Dem(numero(5), responsables=[Resp(nom="Dup0nt", telephone="12")], commentaire="Ñandú")
    (line,) = lines(ingestor, write_feed(tmp_path, [demande]))
    assert line.label == numero(5) and line.code == "schema-invalide"
    assert "/nom" in line.message and "Dup0nt" not in line.message and "12" not in line.message


def test_one_numero_several_times_in_one_feed(ingestor, engine, tmp_path, caplog, vault):
    """The writes of a feed are grouped in one transaction: each occurrence still sees what
    the earlier ones did (a quarantine, a reception)."""
    broken = Dem(numero(1), creneaux=[("lundi", "18:00", "08:00")])
    changed = Dem(numero(1), responsables=[Resp(prenom="Claire-Marie")])
    feed = [broken, Dem(numero(1)), Dem(numero(1)), changed, Dem(numero(2))]
    outcome = [(line.result, line.code) for line in lines(ingestor, write_feed(tmp_path, feed))]
    assert outcome == [
        (Result.REFUSED, "creneau-invalide"),
        (Result.INGESTED, None),
        (Result.HELD, None),
        (Result.REFUSED, "doublon-divergent"),
        (Result.INGESTED, None),
    ]
    with transaction(engine) as session:
        assert store.get(session, numero(1)).status == Status.RECEIVED
        assert vault.trail.verify(session).ok
    assert count(engine, DemandeRow) == 2
    assert "one at a time" not in caplog.text  # all in one group, no fallback needed


def test_a_divergent_duplicate_leaves_the_held_demande_untouched(ingestor, engine, vault, tmp_path):
    lines(ingestor, write_feed(tmp_path / "a", [Dem(numero(1))]))
    with transaction(engine) as session:
        original = store.read_secret(session, vault, numero(1), BlobKind.RECORD)
    changed = Dem(numero(1), responsables=[Resp(prenom="Claire-Marie")])
    (line,) = lines(ingestor, write_feed(tmp_path / "b", [changed]))
    assert (line.result, line.code) == (Result.REFUSED, "doublon-divergent")
    lines(ingestor, write_feed(tmp_path / "b", [changed]))  # polled again: no new copy
    with transaction(engine) as session:
        assert store.read_secret(session, vault, numero(1), BlobKind.RECORD) == original
        assert store.get(session, numero(1)).status == Status.RECEIVED
        copies = session.exec(
            select(DemandeBlob).where(DemandeBlob.kind == BlobKind.QUARANTINE_XML)
        ).all()
        assert len(copies) == 1
        assert len(session.exec(select(Refusal)).all()) == 1


def test_a_corrected_demande_replaces_its_quarantined_copy(ingestor, engine, tmp_path):
    broken = Dem(numero(1), creneaux=[("lundi", "18:00", "08:00")])
    lines(ingestor, write_feed(tmp_path / "a", [broken]))
    (line,) = lines(ingestor, write_feed(tmp_path / "b", [Dem(numero(1))]))
    assert line.result == Result.INGESTED
    with transaction(engine) as session:
        assert store.get(session, numero(1)).status == Status.RECEIVED
        assert not store.has_secret(session, numero(1), BlobKind.QUARANTINE_XML)


def test_a_demande_and_its_pdf_are_stored_together_or_not_at_all(
    ingestor, engine, vault, tmp_path, monkeypatch
):
    path = write_feed(tmp_path, [Dem(numero(1)), Dem(numero(2))])
    real_encrypt = vault.encrypt

    def failing(data_key, numero_, kind, plaintext):
        if numero_ == numero(2) and kind == BlobKind.PDF:
            raise OSError("disque plein")
        return real_encrypt(data_key, numero_, kind, plaintext)

    monkeypatch.setattr(vault, "encrypt", failing)
    results = ingestor.ingest_file(path)
    next(results)  # header
    assert next(results).result == Result.INGESTED
    with pytest.raises(OSError):
        next(results)
    with transaction(engine) as session:
        assert store.get(session, numero(1)) is not None
        assert store.get(session, numero(2)) is None
        assert (
            session.exec(select(DemandeBlob).where(DemandeBlob.numero == numero(2))).first() is None
        )
        assert vault.trail.verify(session).ok
    monkeypatch.setattr(vault, "encrypt", real_encrypt)
    assert [r.result for r in lines(ingestor, path)] == [Result.HELD, Result.INGESTED]


def test_a_whole_document_refusal_stores_nothing(ingestor, engine, tmp_path):
    path = write_feed(tmp_path, [Dem(numero(1))])
    path.write_text(path.read_text().replace("</fluxDemandes>", "<?php x ?></fluxDemandes>"))
    (line,) = lines(ingestor, path)
    assert (line.result, line.code, line.numero) == (Result.REFUSED, "xml-dangereux", None)
    assert count(engine, DemandeRow) == 0


def test_a_feed_of_a_commune_outside_the_convention(ingestor, engine, tmp_path):
    path = write_feed(tmp_path, [Dem(numero(1)), Dem(numero(2))], commune="69259")
    assert {(r.result, r.code) for r in lines(ingestor, path)} == {
        (Result.REFUSED, "commune-non-habilitee")
    }
    assert count(engine, DemandeKey) == 0


def test_every_step_is_in_the_audit_trail(ingestor, engine, samples, vault):
    lines(ingestor, samples / "flux-69273-corbas.xml")
    with transaction(engine) as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        assert [(e.action, e.numero, e.actor) for e in events] == [
            ("reception", f"ME-2026-000010{i}", "l.feuga@ville-corbas.fr") for i in (1, 2, 3)
        ]
        assert vault.trail.verify(session).ok


def test_names_and_comments_come_back_byte_for_byte(ingestor, engine, vault, tmp_path):
    decomposed = "Lefe\u0300vre"  # NFD: must not be normalised to "Lefèvre"
    family = [
        Resp(nom="王", prenom="小龍"),
        Resp(rang="2", nom="Œlschläger-N'Diaye", prenom=decomposed, telephone=None, courriel=None),
    ]
    comment = "Horaires décalés 🧸 — « le mercredi » 😀\u200d; 日本語"
    lines(
        ingestor, write_feed(tmp_path, [Dem(numero(1), responsables=family, commentaire=comment)])
    )
    with transaction(engine) as session:
        record = RECORD.validate_json(store.read_secret(session, vault, numero(1), BlobKind.RECORD))
    assert [(r.nom, r.prenom) for r in record.responsables] == [
        ("王", "小龍"),
        ("Œlschläger-N'Diaye", decomposed),
    ]
    assert record.accueil.commentaire == comment
    assert record.responsables[1].prenom.encode() == decomposed.encode()


def test_hostile_values_refuse_their_demande_and_the_next_is_stored(ingestor, engine, tmp_path):
    """Issue 21: a year of 11 digits aborted the whole feed (nothing stored, not even the
    demande before it); 4,000 attributes on one element cost minutes of explanation."""
    crowded = "".join(f' a{i}="x"' for i in range(4000))
    demandes = [
        Dem(numero(1)),
        Dem(numero(2), depot="99999999999-11-02T20:41:00+01:00"),
        Dem(numero(3)),
        Dem(numero(4), raw=Dem(numero(4)).xml().replace("<enfant>", f"<enfant{crowded}>")),
        Dem(numero(5)),
    ]
    result = {r.numero: r for r in lines(ingestor, write_feed(tmp_path, demandes))}
    assert [result[numero(i)].result for i in (1, 3, 5)] == [Result.INGESTED] * 3
    for i, element in ((2, "dateDepot"), (4, "enfant")):
        line = result[numero(i)]
        assert line.result == Result.REFUSED and line.code == "schema-invalide"
        assert element in line.message and len(line.message) < 300
    with transaction(engine) as session:
        received = {r.numero for r in store.listing(session, status=Status.RECEIVED)}
    assert received == {numero(1), numero(3), numero(5)}
