from pathlib import Path

import pytest

from intake.feed.errors import Code
from intake.feed.guard import check_document
from tests.support.feeds import Dem, feed_xml, numero

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
