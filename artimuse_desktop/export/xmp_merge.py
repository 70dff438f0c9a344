"""Merging our fields into a sidecar's XML, leaving everything else as the app that made it wrote it.

``SidecarData.fields`` says which groups we write: ``flag``, ``rating``, ``color_label`` (the decisions) and
``score`` (the ``artimuse:*`` score, model and attributes). A group not named is not touched, so a rating set in
Lightroom survives a sidecar written for a photo that was only scored here. ``fields=None`` writes every group
(an exported copy, a test): what is absent from the data is then removed.

``xmp:Rating`` carries both stars and the reject (``-1``): a reject decided here keeps the stars the sidecar had
in ``artimuse:Rating``; stars decided here under a reject set elsewhere keep the ``-1``; a photo un-rejected here
whose stars nobody knows loses the ``-1`` and gets no invented ``0``.

Parsing uses ``xml.dom.minidom`` (through defusedxml), which keeps prefixes, comments, processing instructions
and element order as written, after the hardened check of ``library.sidecars`` (minidom recurses and trusts its
input).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.dom import minidom
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException
from defusedxml.minidom import parseString as defused_parse_string

from artimuse_desktop import __version__
from artimuse_desktop.library.sidecars import (
    DARKTABLE_LABELS,
    DIGIKAM_LABELS,
    DIGIKAM_PICKS,
    LIGHTROOM_LABELS,
    NS_ARTIMUSE,
    NS_DARKTABLE,
    NS_DIGIKAM,
    NS_RDF,
    NS_X,
    NS_XMLNS,
    NS_XMP,
    SidecarDecisions,
    SidecarError,
    decisions_from_bytes,
    parse_sidecar,
)
from artimuse_desktop.vocabulary import ATTRIBUTES, flag_word

FIELD_FLAG = "flag"
FIELD_RATING = "rating"
FIELD_LABEL = "color_label"
FIELD_SCORE = "score"
ALL_FIELDS = frozenset((FIELD_FLAG, FIELD_RATING, FIELD_LABEL, FIELD_SCORE))

PREFERRED_PREFIXES = {
    NS_XMP: "xmp",
    NS_ARTIMUSE: "artimuse",
    NS_DARKTABLE: "darktable",
    NS_DIGIKAM: "digiKam",
    NS_RDF: "rdf",
}
_SCORE_SIMPLE = ("Score", "Model", "ModelVersion", "ExperimentalAttributes")


def attribute_property(attribute: str) -> str:
    """The XMP property name of an attribute: "Composition & Design" → ``CompositionDesign``."""
    words = "".join(ch if ch.isalnum() else " " for ch in attribute).split()
    return "".join(word[:1].upper() + word[1:] for word in words)


ATTRIBUTE_PROPERTIES: dict[str, str] = {attribute: attribute_property(attribute) for attribute in ATTRIBUTES}


@dataclass(frozen=True)
class SidecarData:
    """Everything one sidecar receives, as plain values; ``fields`` names the groups written (None: all)."""

    rating: int = 0
    flag: int = 0
    label: str | None = None
    score: float | None = None
    model: str | None = None
    model_version: str | None = None
    attributes: dict[str, float] = field(default_factory=dict)  # attribute name -> score
    experimental: set[str] = field(default_factory=set)  # attribute names whose score is experimental
    fields: frozenset[str] | None = None

    def writes(self, name: str) -> bool:
        return self.fields is None or name in self.fields


def _number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ---------------------------------------------------------------------------------------------- DOM helpers

_EMPTY_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<x:xmpmeta xmlns:x="{NS_X}" x:xmptk="ArtiMuse Desktop {__version__}">\n'
    f' <rdf:RDF xmlns:rdf="{NS_RDF}">\n'
    '  <rdf:Description rdf:about=""/>\n'
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n"
)


def _bound_prefix(element: minidom.Element, uri: str) -> str | None:
    """The prefix bound to ``uri`` where ``element`` sits (its own declarations, then its ancestors')."""
    node: minidom.Node | None = element
    while node is not None and node.nodeType == node.ELEMENT_NODE:
        assert isinstance(node, minidom.Element)
        for name, value in node.attributes.items():
            if name.startswith("xmlns:") and value == uri:
                return name[6:]
        node = node.parentNode
    return None


def _prefix_in_use(element: minidom.Element, prefix: str) -> bool:
    node: minidom.Node | None = element
    while node is not None and node.nodeType == node.ELEMENT_NODE:
        assert isinstance(node, minidom.Element)
        if node.hasAttribute(f"xmlns:{prefix}"):
            return True
        node = node.parentNode
    return False


def _ensure_prefix(element: minidom.Element, uri: str) -> str:
    prefix = _bound_prefix(element, uri)
    if prefix is not None:
        return prefix
    base = PREFERRED_PREFIXES.get(uri, "ns")
    prefix, number = base, 1
    while _prefix_in_use(element, prefix):
        number += 1
        prefix = f"{base}{number}"
    element.setAttributeNS(NS_XMLNS, f"xmlns:{prefix}", uri)
    return prefix


def _elements(description: minidom.Element, uri: str, local: str) -> list[minidom.Element]:
    return [
        child
        for child in description.childNodes
        if child.nodeType == child.ELEMENT_NODE and child.namespaceURI == uri and child.localName == local
    ]


def _remove_property(descriptions: Sequence[minidom.Element], uri: str, local: str) -> bool:
    """Remove every occurrence (attribute or element form); True when there was one."""
    found = False
    for description in descriptions:
        if description.hasAttributeNS(uri, local):
            description.removeAttributeNS(uri, local)
            found = True
        for child in _elements(description, uri, local):
            previous = child.previousSibling
            description.removeChild(child)
            if previous is not None and previous.nodeType == previous.TEXT_NODE and not previous.data.strip():
                description.removeChild(previous)
            found = True
    return found


def _has_property(descriptions: Sequence[minidom.Element], uri: str, local: str) -> bool:
    return any(d.hasAttributeNS(uri, local) or _elements(d, uri, local) for d in descriptions)


def _property_text(descriptions: Sequence[minidom.Element], uri: str, local: str) -> str | None:
    """The first simple value of a property (attribute or element form), as written."""
    for description in descriptions:
        if description.hasAttributeNS(uri, local):
            return str(description.getAttributeNS(uri, local))
        for child in _elements(description, uri, local):
            return "".join(n.data for n in child.childNodes if n.nodeType == n.TEXT_NODE).strip()
    return None


def _set_attribute(description: minidom.Element, uri: str, local: str, value: str) -> None:
    prefix = _ensure_prefix(description, uri)
    description.setAttributeNS(uri, f"{prefix}:{local}", value)


def _append_seq(
    document: minidom.Document, description: minidom.Element, uri: str, local: str, items: Sequence[str]
) -> None:
    prefix = _ensure_prefix(description, uri)
    rdf = _ensure_prefix(description, NS_RDF)
    prop = document.createElementNS(uri, f"{prefix}:{local}")
    seq = document.createElementNS(NS_RDF, f"{rdf}:Seq")
    for item in items:
        li = document.createElementNS(NS_RDF, f"{rdf}:li")
        li.appendChild(document.createTextNode(item))
        seq.appendChild(li)
    prop.appendChild(seq)
    description.appendChild(document.createTextNode("\n   "))
    description.appendChild(prop)
    description.appendChild(document.createTextNode("\n  "))


def _descriptions(document: minidom.Document, path: Path) -> list[minidom.Element]:
    rdf_elements = document.getElementsByTagNameNS(NS_RDF, "RDF")
    if not rdf_elements:
        raise SidecarError(path, "no rdf:RDF element: not an XMP sidecar")
    rdf = rdf_elements[0]
    found = [
        child
        for child in rdf.childNodes
        if child.nodeType == child.ELEMENT_NODE and child.namespaceURI == NS_RDF and child.localName == "Description"
    ]
    if not found:
        description = document.createElementNS(NS_RDF, f"{_ensure_prefix(rdf, NS_RDF)}:Description")
        description.setAttributeNS(NS_RDF, f"{_ensure_prefix(rdf, NS_RDF)}:about", "")
        rdf.appendChild(description)
        found = [description]
    return found


# ---------------------------------------------------------------------------------------------- merging


def _whole(text: str | None) -> int | None:
    try:
        return int(float(text)) if text is not None and float(text).is_integer() else None
    except (ValueError, OverflowError):
        return None


def _merge_stars(descriptions: list[minidom.Element], data: SidecarData, before: SidecarDecisions) -> None:
    """``xmp:Rating`` (stars, or -1 for a reject), ``artimuse:Rating`` and ``artimuse:Flag``, per the rules above."""
    target = descriptions[0]
    had_xmp = _whole(_property_text(descriptions, NS_XMP, "Rating"))
    rejected = data.flag == -1 if data.writes(FIELD_FLAG) else had_xmp == -1
    stars = max(0, min(5, data.rating)) if data.writes(FIELD_RATING) else before.rating
    had_digikam_pick = _has_property(descriptions, NS_DIGIKAM, "PickLabel")
    _remove_property(descriptions, NS_XMP, "Rating")
    if rejected or stars is not None:
        _set_attribute(target, NS_XMP, "Rating", "-1" if rejected else str(stars))
    if stars is not None:
        _remove_property(descriptions, NS_ARTIMUSE, "Rating")
        _set_attribute(target, NS_ARTIMUSE, "Rating", str(stars))
    if data.writes(FIELD_FLAG):
        _remove_property(descriptions, NS_ARTIMUSE, "Flag")
        _set_attribute(target, NS_ARTIMUSE, "Flag", flag_word(data.flag))
        if had_digikam_pick:
            _remove_property(descriptions, NS_DIGIKAM, "PickLabel")
            number = {v: k for k, v in DIGIKAM_PICKS.items()}.get(data.flag, 0)
            _set_attribute(target, NS_DIGIKAM, "PickLabel", str(number))


def _merge_label(
    document: minidom.Document, descriptions: list[minidom.Element], data: SidecarData, style: str
) -> None:
    target = descriptions[0]
    had_darktable = _remove_property(descriptions, NS_DARKTABLE, "colorlabels")
    had_digikam_label = _remove_property(descriptions, NS_DIGIKAM, "ColorLabel")
    _remove_property(descriptions, NS_XMP, "Label")
    if data.label:
        _set_attribute(target, NS_XMP, "Label", LIGHTROOM_LABELS[data.label])
    if had_digikam_label:
        number = {v: k for k, v in DIGIKAM_LABELS.items()}.get(data.label or "", 0)
        _set_attribute(target, NS_DIGIKAM, "ColorLabel", str(number))
    if (style == "darktable" or had_darktable) and data.label:
        _append_seq(document, target, NS_DARKTABLE, "colorlabels", [str(DARKTABLE_LABELS.index(data.label))])


def _merge_scores(descriptions: list[minidom.Element], data: SidecarData) -> None:
    target = descriptions[0]
    for local in (*_SCORE_SIMPLE, *ATTRIBUTE_PROPERTIES.values()):
        _remove_property(descriptions, NS_ARTIMUSE, local)
    if data.score is not None:
        _set_attribute(target, NS_ARTIMUSE, "Score", _number(data.score))
    if data.model:
        _set_attribute(target, NS_ARTIMUSE, "Model", data.model)
    if data.model_version:
        _set_attribute(target, NS_ARTIMUSE, "ModelVersion", data.model_version)
    for attribute, prop in ATTRIBUTE_PROPERTIES.items():
        if attribute in data.attributes:
            _set_attribute(target, NS_ARTIMUSE, prop, _number(data.attributes[attribute]))
    experimental = [prop for attribute, prop in ATTRIBUTE_PROPERTIES.items() if attribute in data.experimental]
    if experimental:
        # Which of the attribute scores above are experimental, so no reader takes them at face value.
        _set_attribute(target, NS_ARTIMUSE, "ExperimentalAttributes", ", ".join(experimental))


def merge_into(
    document: minidom.Document,
    path: Path,
    data: SidecarData,
    style: str,
    before: SidecarDecisions | None = None,
) -> None:
    """Replace the groups ``data`` writes in ``document``; everything else stays as it was. ``before`` is what
    the sidecar said (the stars kept behind a reject decided here)."""
    descriptions = _descriptions(document, path)
    _remove_property(descriptions, NS_XMP, "MetadataDate")
    _set_attribute(descriptions[0], NS_XMP, "MetadataDate", datetime.now().astimezone().isoformat(timespec="seconds"))
    if data.writes(FIELD_FLAG) or data.writes(FIELD_RATING):
        _merge_stars(descriptions, data, before or SidecarDecisions())
    if data.writes(FIELD_LABEL):
        _merge_label(document, descriptions, data, style)
    if data.writes(FIELD_SCORE):
        _merge_scores(descriptions, data)


def _serialise(document: minidom.Document, had_declaration: bool) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>'] if had_declaration else []
    parts += [node.toxml() for node in document.childNodes if node.nodeType != node.DOCUMENT_TYPE_NODE]
    return ("\n".join(parts) + "\n").encode("utf-8")


def _said_before(existing: bytes, path: Path) -> SidecarDecisions:
    """The decisions the sidecar holds; nothing when a value in a field we own is garbage (it is replaced)."""
    try:
        return decisions_from_bytes(existing, path)
    except SidecarError:
        return SidecarDecisions()


def render_sidecar(existing: bytes | None, path: Path, data: SidecarData, style: str) -> bytes:
    """The new sidecar bytes: ``existing`` merged with our fields, or a fresh sidecar."""
    source = existing if existing is not None else _EMPTY_DOCUMENT.encode("utf-8")
    before = SidecarDecisions()
    if existing is not None:
        parse_sidecar(existing, path)  # the hardened check first: minidom recurses and trusts its input
        if data.fields is not None and FIELD_RATING not in data.fields:
            before = _said_before(existing, path)
    try:
        document = defused_parse_string(source, forbid_dtd=True)
    except ExpatError as exc:
        raise SidecarError(path, f"not well-formed XML ({exc})") from exc
    except (DefusedXmlException, LookupError, ValueError, RecursionError) as exc:
        raise SidecarError(path, f"cannot be merged safely ({type(exc).__name__})") from exc
    try:
        if document.doctype is not None:
            raise SidecarError(path, "contains a DOCTYPE, which XMP never uses")
        merge_into(document, path, data, style, before)
        had_declaration = existing is None or existing.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml")
        return _serialise(document, had_declaration)
    finally:
        document.unlink()
