"""At least 30 hostile or broken feeds: each refused with its rule code, no crash, no file
read, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.feed.pdf import FolderPdfSource
from storage.db import make_engine, upgrade
from tests.e2e.test_hostile import CANARY, _Recorder, listener  # noqa: F401  (fixture)
from tests.faults.corpus import corpus
from tests.support.feeds import numero
from tests.support.lieu import make_ingestor

NAMES = sorted(corpus(Path("/nonexistent"), "http://127.0.0.1:9"))


def test_the_corpus_is_large_enough():
    assert len(NAMES) >= 30


@pytest.mark.parametrize("name", NAMES)
def test_each_is_refused_with_its_code(name, vault, schema, tmp_path, listener):  # noqa: F811
    engine = make_engine(f"sqlite:///{tmp_path / 'intake.db'}")  # the parser is the subject
    upgrade(engine)
    ingestor = make_ingestor(engine, vault, schema)
    canary = tmp_path / "secret.pdf"
    canary.write_text(CANARY)
    feed, pdf, code = corpus(canary, listener)[name]
    folder = tmp_path / "depot"
    folder.mkdir()
    if pdf is not None:
        (folder / f"{numero(1)}.pdf").write_bytes(pdf)
    lines = list(ingestor.ingest(feed, f"{name}.xml", source="depot", pdfs=FolderPdfSource(folder)))
    refused = [line for line in lines if getattr(line, "result", None) == "refused"]
    assert [line.code for line in refused] == [code], lines
    assert all(CANARY not in (line.message or "") for line in refused)
    assert _Recorder.hits == []
    for db_file in tmp_path.glob("intake.db*"):
        assert CANARY.encode() not in db_file.read_bytes()
