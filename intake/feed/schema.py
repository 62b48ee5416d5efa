"""The XSD of the feed: lxml validates on the hot path, xmlschema explains a failure.

lxml's messages quote the offending value (a name, a postal code...), which
is personal data; xmlschema gives the element path and the facet that failed,
from which the French message is written without the value.
"""

from __future__ import annotations

import logging
import re
import time
from functools import cached_property
from importlib import resources
from itertools import islice
from typing import TYPE_CHECKING, Any

from lxml import etree

if TYPE_CHECKING:  # xmlschema is imported only when a demande fails: it is slow to load
    import xmlschema

log = logging.getLogger(__name__)

NAMESPACE_V1 = "urn:monenfant-intake:flux-demandes:1"
XSD_V1 = "flux-demandes-v1.xsd"
MAX_EXPLANATIONS = 5
# The detailed explanation is xmlschema's, in Python, and its cost grows faster than the
# element (4,000 attributes: two minutes). It is bounded three ways, falling back to a
# generic message: the element's size (a real demande has some 60 elements and attributes),
# the time spent, and the text's length.
MAX_EXPLAINED_NODES = 500
EXPLAIN_SECONDS = 5.0
MAX_EXPLANATION_CHARS = 600
GENERIC = "document non conforme au schéma"

# What each pattern of the XSD means, for the agent who reads the refusal.
_PATTERN_HINTS = {
    "[\\w '’\\--[\\p{N}\\p{S}]]+": "lettres, espaces, apostrophes et tirets seulement",
    "[0-9]{5}": "5 chiffres",
    "\\+?[0-9 .()\\-]{6,20}": "numéro de téléphone de 6 à 20 chiffres, espaces, points, "
    "parenthèses ou tirets",
    "[^@\\s]+@[^@\\s]+\\.[^@\\s]+": "adresse électronique",
    "ME-[0-9]{4}-[0-9]{7}": "numéro de la forme ME-AAAA-NNNNNNN",
    "([0-9]{2}|2A|2B)[0-9]{3}": "code INSEE à 5 caractères",
    "[0-9a-f]{64}": "64 caractères hexadécimaux minuscules",
    "([01][0-9]|2[0-3]):[0-5][0-9]": "heure hh:mm sur 24 h",
    ".+(Z|[+\\-][0-9]{2}:[0-9]{2})": "date et heure avec décalage horaire (Z ou ±hh:mm)",
    "[0-9]{7}": "7 chiffres",
    "[A-Za-z0-9._\\-]{1,96}\\.pdf": "nom de fichier .pdf sans chemin",
}


def _local(tag: object) -> str:
    text = str(tag)
    return text.rsplit("}", 1)[-1].split(":")[-1]


class FeedSchema:
    """One version of the feed's XSD."""

    def __init__(self, xsd_name: str = XSD_V1) -> None:
        self.xsd_name = xsd_name
        with resources.files("schemas").joinpath(xsd_name).open("rb") as stream:
            self._lxml = etree.XMLSchema(etree.parse(stream, etree.XMLParser(no_network=True)))

    @cached_property
    def _explainer(self) -> xmlschema.XMLSchema10:
        # Loaded only when something failed: xmlschema is slower and not needed otherwise.
        import xmlschema

        with resources.as_file(resources.files("schemas").joinpath(self.xsd_name)) as path:
            return xmlschema.XMLSchema10(str(path))

    def is_valid(self, element: etree._Element) -> bool:
        return bool(self._lxml.validate(element))

    def explain(self, element: etree._Element) -> list[str]:
        """French explanations (path + what was expected), never quoting a value; bounded in
        time and size, and never raising: a generic message when no detail can be given."""
        if _nodes(element, MAX_EXPLAINED_NODES + 1) > MAX_EXPLAINED_NODES:
            return [f"{GENERIC} (trop d'éléments ou d'attributs pour être détaillé)"]
        explanations: list[str] = []
        length = 0
        try:
            explainer = self._explainer  # loading it is not explaining: before the clock starts
            deadline = time.monotonic() + EXPLAIN_SECONDS
            # xmlschema reads lxml elements, but its ElementProtocol does not match lxml's stubs.
            for error in explainer.iter_errors(element):  # type: ignore[arg-type]
                text = _explain(error)[: MAX_EXPLANATION_CHARS // MAX_EXPLANATIONS]
                length += len(text) + 3  # with its " ; "
                if length > MAX_EXPLANATION_CHARS:
                    break
                explanations.append(text)
                if len(explanations) >= MAX_EXPLANATIONS or time.monotonic() > deadline:
                    break
        except Exception as exc:  # OverflowError: a year of 11 digits
            # The type only: xmlschema's message quotes the value.
            log.info("explication du schéma interrompue (%s)", type(exc).__name__)
        return explanations or [GENERIC]


def _nodes(element: etree._Element, limit: int) -> int:
    """The element's elements and attributes, counted up to `limit` and no further."""
    count = 0
    for node in islice(element.iter(), limit):
        count += 1 + len(node.attrib)
        if count >= limit:
            break
    return count


def _explain(error: xmlschema.XMLSchemaValidationError) -> str:
    path = re.sub(r"\{[^}]*\}|\b\w+:(?=\w)", "", error.path or "/")
    reason = error.reason or ""
    attribute = re.match(r"attribute (\w+)=", reason)
    if attribute:
        path = f"{path}/@{attribute.group(1)}"
    return f"{path} : {_expectation(error, reason)}"


def _expectation(error: Any, reason: str) -> str:
    from xmlschema.validators import (
        XsdEnumerationFacets,
        XsdMaxLengthFacet,
        XsdMinLengthFacet,
        XsdPatternFacets,
    )
    from xmlschema.validators.exceptions import XMLSchemaChildrenValidationError

    validator = error.validator
    if isinstance(error, XMLSchemaChildrenValidationError):
        expected = ", ".join(_local(getattr(e, "name", e)) for e in list(error.expected or ())[:5])
        if error.invalid_tag is not None:
            found = f"élément « {_local(error.invalid_tag)} » inattendu"
        else:
            found = "contenu incomplet"
        return f"{found}" + (f" ; attendu : {expected}" if expected else "")
    if isinstance(validator, XsdPatternFacets):
        hints = [_PATTERN_HINTS.get(p, f"motif {p}") for p in validator.regexps]
        return f"format invalide (attendu : {' ou '.join(hints)})"
    if isinstance(validator, XsdMaxLengthFacet):
        return f"trop long (au plus {validator.value} caractères)"
    if isinstance(validator, XsdMinLengthFacet):
        return f"trop court (au moins {validator.value} caractère(s))"
    if isinstance(validator, XsdEnumerationFacets):
        return f"valeur non prévue (attendu : {', '.join(map(str, validator.enumeration))})"
    missing = re.match(r"missing required attribute '?(\w+)'?", reason)
    if missing:
        return f"attribut obligatoire « {missing.group(1)} » manquant"
    if "not allowed" in reason.lower() and "attribute" in reason.lower():
        return "attribut non prévu"
    type_name = getattr(getattr(validator, "name", None), "__str__", lambda: None)()
    if type_name:
        return f"valeur invalide pour le type {_local(type_name)}"
    return f"valeur invalide ({_without_values(reason)})"


def _without_values(reason: str) -> str:
    # Whatever xmlschema quotes may be what the family typed: drop it.
    reason = re.sub(r"=\S+", "", reason)
    return re.sub(r"'[^']*'|\"[^\"]*\"", "…", reason)[:200]
