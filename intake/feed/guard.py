"""First pass over a feed: is the whole document safe and well formed?

The spec refuses the *whole* document when it is dangerous or malformed, yet
feeds are streamed and demandes stored one by one. So before anything is
stored, the file is read once by libxml2 with a parser target that builds no
tree (constant memory at any size): DOCTYPE, entity declarations, processing
instructions, bad UTF-8, excessive depth and truncation are all found here.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypedDict

from lxml import etree

from intake.feed.errors import Code, Violation
from intake.files import open_regular

CHUNK = 1 << 20
# The feed is at most 7 levels deep; anything far deeper is an attack on the parser.
MAX_DEPTH = 32
# The XSD declares at most 3 attributes on an element (creneau, documentPdf), any instance may
# add the 4 xsi: ones, and an element may declare a few namespaces: 16 leaves room for all,
# and a test holds it to the XSD. Thousands of attributes cost minutes in the schema's
# French explanation: such an element is refused before it is validated.
MAX_ATTRIBUTES = 16
_DANGEROUS_MARKUP = (b"<!DOCTYPE", b"<!ENTITY")
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


class _Refuse(Exception):
    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message)
        self.violation = violation


_NS = "{urn:monenfant-intake:flux-demandes:1}"
ROOT = _NS + "fluxDemandes"
# What may follow each top-level element (None: the start of the document).
_NEXT_TOP_LEVEL: dict[str | None, frozenset[str]] = {
    None: frozenset({_NS + "lieuInformation"}),
    _NS + "lieuInformation": frozenset({_NS + "commune"}),
    _NS + "commune": frozenset({_NS + "demande"}),
    _NS + "demande": frozenset({_NS + "demande"}),
}


class _Watcher:
    """lxml parser target: only the callbacks defined here cross into Python.

    Besides danger, it checks the envelope's shape (root, then lieuInformation,
    commune, demande*), which the per-demande validation of the second pass cannot see.
    A shape problem is remembered, not raised: a dangerous construct further on
    still makes the document dangerous.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.previous_top: str | None = None
        self.shape: Violation | None = None

    def start(self, tag: str, attrib: dict[str, str], nsmap: dict[str, str] | None = None) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refuse(
                Violation(
                    Code.XML_DANGEREUX, f"imbrication de plus de {MAX_DEPTH} niveaux d'éléments"
                )
            )
        if self.depth <= 2 and self.shape is None:
            self._check_shape(tag)
            # A crowded demande is that demande's refusal (`crowded`, when it is decided);
            # a crowded envelope is the feed's.
            if tag != _NS + "demande" and self.shape is None:
                self.shape = _too_many_attributes(tag, len(attrib) + len(nsmap or ()))

    def _check_shape(self, tag: str) -> None:
        if self.depth == 1:
            if tag != ROOT:
                self.shape = Violation(
                    Code.SCHEMA_INVALIDE,
                    "l'élément racine doit être "
                    "fluxDemandes (urn:monenfant-intake:flux-demandes:1)",
                )
            return
        if tag not in _NEXT_TOP_LEVEL.get(self.previous_top, frozenset()):
            expected = " ou ".join(
                sorted(t.removeprefix(_NS) for t in _NEXT_TOP_LEVEL.get(self.previous_top, ()))
            )
            self.shape = Violation(
                Code.SCHEMA_INVALIDE,
                f"/fluxDemandes : élément "
                f"« {tag.rsplit('}', 1)[-1]} » inattendu ; attendu : "
                f"{expected or 'fin du document'}",
            )
        self.previous_top = tag

    def end(self, tag: str) -> None:
        self.depth -= 1

    def doctype(self, *_: object) -> None:
        raise _Refuse(Violation(Code.XML_DANGEREUX, "déclaration DOCTYPE interdite"))

    def pi(self, target: str, data: str | None = None) -> None:
        raise _Refuse(
            Violation(
                Code.XML_DANGEREUX, f"instruction de traitement interdite (<?{target[:20]} ...?>)"
            )
        )

    def close(self) -> Violation | None:
        if self.shape is None and self.previous_top in (None, _NS + "lieuInformation"):
            return Violation(
                Code.SCHEMA_INVALIDE, "/fluxDemandes : lieuInformation et commune sont obligatoires"
            )
        return self.shape


def _too_many_attributes(tag: str, count: int) -> Violation | None:
    if count <= MAX_ATTRIBUTES:
        return None
    return Violation(
        Code.SCHEMA_INVALIDE,
        f"élément « {tag.rsplit('}', 1)[-1][:40]} » : plus de {MAX_ATTRIBUTES} attributs "
        "ou déclarations d'espace de noms, au-delà de ce que le schéma prévoit",
    )


def crowded(element: etree._Element) -> Violation | None:
    """The first element of a demande (itself included) with more attributes than the schema
    can hold, as a refusal naming it; None when there is none."""
    inherited = _namespaces(element.getparent())
    for node in element.iter(etree.Element):
        # Namespace declarations count too: the ones this element adds to its parent's.
        declared = len(node.nsmap) - (
            _namespaces(node.getparent()) if node is not element else inherited
        )
        violation = _too_many_attributes(str(node.tag), len(node.attrib) + max(declared, 0))
        if violation is not None:
            return violation
    return None


def _namespaces(element: etree._Element | None) -> int:
    return 0 if element is None else len(element.nsmap)


class HardenedOptions(TypedDict):
    resolve_entities: bool
    no_network: bool
    load_dtd: bool
    dtd_validation: bool
    huge_tree: bool
    remove_pis: bool


def hardened_parser_options() -> HardenedOptions:
    """The options of every lxml parse of a feed: no DTD, no entities, no network, size limits."""
    return {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "huge_tree": False,
        "remove_pis": False,
    }


@dataclass(frozen=True)
class GuardResult:
    violation: Violation | None

    @property
    def ok(self) -> bool:
        return self.violation is None


def check_document(source: Path | bytes | BinaryIO) -> GuardResult:
    """`source` is a file (a regular one: never through a link), a file already open, or a
    document already in memory (an extranet answer)."""
    if isinstance(source, bytes):
        return GuardResult(_check_stream(io.BytesIO(source)))
    if not isinstance(source, Path):
        return GuardResult(_check_stream(source))
    try:
        with open_regular(source) as stream:
            return GuardResult(_check_stream(stream))
    except OSError as exc:
        return GuardResult(Violation(Code.XML_MALFORME, f"fichier illisible ({exc.strerror})"))


def _check_stream(stream: BinaryIO) -> Violation | None:
    head = stream.read(CHUNK)
    declared = _DECLARED_ENCODING.match(head.removeprefix(b"\xef\xbb\xbf"))
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return Violation(Code.XML_MALFORME, "encodage déclaré autre que UTF-8")
    # types-lxml's ParserTarget wants every callback; lxml calls only those a target defines,
    # and a data() or comment() here would bring every text node into Python.
    parser = etree.XMLParser(  # type: ignore[call-overload]
        target=_Watcher(), encoding="utf-8", **hardened_parser_options()
    )
    dangerous: Violation | None = None
    tail = b""
    chunk = head
    try:
        while chunk:
            window = tail + chunk
            if dangerous is None and any(marker in window for marker in _DANGEROUS_MARKUP):
                dangerous = Violation(Code.XML_DANGEREUX, "déclaration DOCTYPE ou ENTITY interdite")
            parser.feed(chunk)
            tail = chunk[-16:]
            chunk = stream.read(CHUNK)
        shape = parser.close()
    except _Refuse as refused:
        return refused.violation
    except etree.XMLSyntaxError as exc:
        if dangerous is not None:
            return dangerous
        return Violation(Code.XML_MALFORME, f"XML mal formé : {_syntax_message(exc)}")
    except (etree.LxmlError, ValueError, OSError) as exc:  # libxml2's other refusals
        return dangerous or Violation(Code.XML_MALFORME, f"XML illisible ({type(exc).__name__})")
    return dangerous or shape


def _syntax_message(exc: etree.XMLSyntaxError) -> str:
    # libxml2 messages name constructs, not values; keep only the first line and the position.
    line, column = exc.position if exc.position else (0, 0)
    text = str(exc.msg if hasattr(exc, "msg") else exc).splitlines()[0]
    text = re.sub(r",\s*line \d+, column \d+.*$", "", text)
    return f"{text} (ligne {line}, colonne {column})"
