"""One feed, streamed: its envelope checked, then each demande decided on its own (XSD, model,
rules, PDF). One bad demande never blocks the others."""

from __future__ import annotations

import copy
import io
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from intake.convention.deadlines import past_retention
from intake.feed.decode import Unreadable, decode_demande, parse_datetime
from intake.feed.errors import NOTHING_PERSONAL, Code, Violation, ordered
from intake.feed.guard import crowded, hardened_parser_options
from intake.feed.model import RECORD
from intake.feed.outcomes import Accepted, DocumentRefused, FeedHeader, Quarantine, Refused
from intake.feed.pdf import PdfSource, load_checked_pdf
from intake.feed.rules import RuleContext, check
from intake.feed.schema import NAMESPACE_V1, FeedSchema
from intake.files import open_regular

log = logging.getLogger(__name__)
_NS = f"{{{NAMESPACE_V1}}}"
_NUMERO = r"ME-[0-9]{4}-[0-9]{7}"


def elements(
    source: Path | bytes | BinaryIO, schema: FeedSchema
) -> Iterator[FeedHeader | DocumentRefused | tuple[int, etree._Element, FeedHeader]]:
    """The feed's header, then each demande element with its position, streamed: an element
    is cleared once the consumer asks for the next one. A path is opened as a regular file
    only (`open_regular`)."""
    if isinstance(source, Path):
        with open_regular(source) as opened:
            yield from elements(opened, schema)
        return
    tags = (_NS + "lieuInformation", _NS + "commune", _NS + "demande")
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    events = etree.iterparse(stream, events=("end",), tag=tags, **hardened_parser_options())
    lieu: etree._Element | None = None
    header: FeedHeader | None = None
    position = 0
    try:
        for _, element in events:
            if element.tag == _NS + "lieuInformation":
                lieu = element
            elif element.tag == _NS + "commune":
                header, refusal = _envelope(element, lieu, schema)
                if refusal is not None:
                    yield refusal
                    return
                yield header
            elif header is not None:
                position += 1
                yield position, element, header
                _forget(element)
    except etree.LxmlError as exc:  # the file changed since the guard read it
        yield DocumentRefused(
            Violation(Code.XML_MALFORME, f"XML mal formé en cours de lecture : {exc}")
        )


def _forget(element: etree._Element) -> None:
    """Keep memory flat while streaming: drop the demande and what came before it."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    while element.getprevious() is not None and parent is not None:
        del parent[0]


def _envelope(
    commune: etree._Element, lieu: etree._Element | None, schema: FeedSchema
) -> tuple[FeedHeader, DocumentRefused | None]:
    root = commune.getparent()
    assert root is not None  # the guard saw commune under the root before any of this
    header = FeedHeader(
        lieu_id=lieu.get("identifiant", "") if lieu is not None else "",
        commune=commune.get("codeInsee", ""),
        generated_at=None,
    )
    try:
        # The root without its demandes (the parser may already hold some): validated alone.
        shell = etree.Element(root.tag, nsmap={None: NAMESPACE_V1})
        for name, value in root.attrib.items():
            shell.set(name, value)
        if lieu is not None:
            shell.append(copy.deepcopy(lieu))
        shell.append(copy.deepcopy(commune))
    except ValueError:  # e.g. an attribute in a namespace whose URI lxml refuses
        return header, DocumentRefused(
            Violation(Code.SCHEMA_INVALIDE, "en-tête du flux : attribut ou espace de noms invalide")
        )
    if not schema.is_valid(shell):
        detail = " ; ".join(schema.explain(shell))
        return header, DocumentRefused(
            Violation(Code.SCHEMA_INVALIDE, f"en-tête du flux : {detail}")
        )
    header = FeedHeader(
        lieu_id=header.lieu_id,
        commune=header.commune,
        # XSD-valid is not Python-readable (year 22026): an unreadable date is no date.
        generated_at=_readable_datetime(root.get("genereLe", "")),
    )
    return header, None


def decide(
    element: etree._Element,
    position: int,
    header: FeedHeader,
    schema: FeedSchema,
    ctx: RuleContext,
    pdfs: PdfSource,
    raw: bytes | None = None,
) -> Accepted | Refused:
    """Whatever any step raises while reading one demande (lxml, the decoder, the rules'
    date arithmetic, a library's bug) is that demande's refusal, never the feed's.
    `raw`: the element's serialisation, when the caller already has it."""
    try:
        return _demande(element, position, header, schema, ctx, pdfs, raw)
    except Exception as exc:  # one demande never stops the feed
        # The type only: a message may quote the value, which may be personal.
        log.warning("demande n° %d du flux illisible (%s)", position, type(exc).__name__)
        unexpected = not isinstance(exc, ValueError | etree.LxmlError)
        return Refused(
            position,
            _readable_numero(element),
            None,
            (
                Violation(
                    Code.SCHEMA_INVALIDE,
                    f"demande n° {position} du flux illisible : "
                    + (
                        f"erreur inattendue à sa lecture ({type(exc).__name__})"
                        if unexpected
                        else "structure ou espace de noms invalide"
                    ),
                ),
            ),
        )


def _demande(
    element: etree._Element,
    position: int,
    header: FeedHeader,
    schema: FeedSchema,
    ctx: RuleContext,
    pdfs: PdfSource,
    raw: bytes | None = None,
) -> Accepted | Refused:
    raw = etree.tostring(element) if raw is None else raw
    too_many = crowded(element)
    if too_many is not None:  # refused before the XSD and its explanation see it
        return _invalid(element, position, raw, header, schema, ctx, too_many.message)
    if not schema.is_valid(element):
        return _invalid(element, position, raw, header, schema, ctx)
    try:
        demande = decode_demande(element)
    except Unreadable as unreadable:  # a year of 11 digits, which the XSD allows
        return _invalid(element, position, raw, header, schema, ctx, str(unreadable))
    except ValueError:  # e.g. 24:00:00, which the XSD allows and Python does not read
        return _invalid(element, position, raw, header, schema, ctx)
    violations = check(demande, ctx)
    if header.commune not in ctx.communes and demande.commune_insee in ctx.communes:
        violations.append(
            Violation(
                Code.COMMUNE_NON_HABILITEE,
                f"le flux est celui de la commune {header.commune}, absente de l'annexe 1",
            )
        )
    if any(v.code in NOTHING_PERSONAL for v in violations):
        return Refused(position, demande.numero, demande.commune_insee, tuple(ordered(violations)))
    if violations:
        pdf, pdf_violation = load_checked_pdf(pdfs, demande.document, demande.numero)
        if pdf_violation is not None:
            violations.append(pdf_violation)
        # The PDF is kept with the quarantined copy only if it is the declared one.
        kept_pdf = pdf if pdf_violation is None else None
        return Refused(
            position,
            demande.numero,
            demande.commune_insee,
            tuple(ordered(violations)),
            Quarantine(demande.date_transmission, raw, kept_pdf),
        )
    return Accepted(
        demande.numero,
        demande.commune_insee,
        demande.date_transmission,
        demande.date_notification,
        RECORD.dump_json(demande),
        raw,
        position,
        demande.document,
        pdfs,
        pdf_name=demande.document.nom,
    )


def _invalid(
    element: etree._Element,
    position: int,
    raw: bytes,
    header: FeedHeader,
    schema: FeedSchema,
    ctx: RuleContext,
    reason: str | None = None,
) -> Refused:
    """A demande the XSD refuses (or whose `reason` the decoder gave). Its copy is kept only
    when its numero, commune and transmission date can be read, so that its retention can be
    enforced like any other."""
    reason = reason or " ; ".join(schema.explain(element))
    violations: tuple[Violation, ...] = (Violation(Code.SCHEMA_INVALIDE, reason),)
    numero = _readable_numero(element)
    concerned = element.find(_NS + "communeConcernee")
    commune = concerned.get("codeInsee") if concerned is not None else None
    commune = commune if commune and re.fullmatch(r"([0-9]{2}|2A|2B)[0-9]{3}", commune) else None
    transmitted = _readable_datetime(element.findtext(_NS + "dateTransmission"))
    keep = (
        numero is not None
        and transmitted is not None
        and commune in ctx.communes
        and header.commune in ctx.communes
        and not past_retention(transmitted, ctx.now, ctx.timezone)
    )
    if (
        not keep
        and commune is not None
        and (commune not in ctx.communes or header.commune not in ctx.communes)
    ):
        violations += (
            Violation(
                Code.COMMUNE_NON_HABILITEE,
                f"la commune {commune} n'est pas dans l'annexe 1 de la convention",
            ),
        )
    quarantine = Quarantine(transmitted, raw, None) if keep and transmitted else None
    return Refused(position, numero, commune, violations, quarantine)


def _readable_numero(element: etree._Element) -> str | None:
    numero = element.get("numero")
    return numero if numero and re.fullmatch(_NUMERO, numero) else None


def _readable_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None
