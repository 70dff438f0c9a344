"""Writing the photographer's decisions and ArtiMuse's scores into XMP sidecars other apps read.

What we write, and therefore own (everything else in a sidecar is kept byte-for-byte in meaning):

* ``xmp:Rating`` 0–5, ``-1`` for a reject (Lightroom Classic, darktable, digiKam, Capture One, Photo
  Mechanic);
* ``xmp:Label`` with Lightroom's names (Red, Yellow, Green, Blue, Purple), removed when there is no label;
* ``xmp:MetadataDate``, so Lightroom notices the sidecar changed;
* ``darktable:colorlabels`` in the darktable style, or whenever the sidecar already has it, and
  ``digiKam:ColorLabel`` / ``digiKam:PickLabel`` when already present, so those apps do not contradict us;
* ``artimuse:*`` (https://artimuse.app/ns/1.0/): Score, Model, ModelVersion, Flag, Rating (the stars
  behind a reject) and one property per attribute (``CompositionDesign`` …). ``resources/exiftool/
  artimuse.config`` teaches exiftool the namespace.

Sidecar names: ``IMG_0001.xmp`` (style "lightroom": Lightroom, Capture One, Photo Mechanic) or
``IMG_0001.CR2.xmp`` (style "darktable": darktable, digiKam); an existing file differing only in case is
reused. JPEGs get a sidecar too: an original is never rewritten. In the Lightroom style ``IMG_0001.xmp`` is
shared by a RAW+JPEG pair and belongs to the RAW, so a JPEG whose RAW partner is in the catalog is skipped.

Merging parses with ``xml.dom.minidom`` (through defusedxml), which keeps prefixes, comments, processing
instructions and element order as written. An existing sidecar is untrusted input and is first read and
checked like any other (``library.sidecars``: a regular file under the size cap, no DOCTYPE or entities, a
known encoding, no deeper than an XMP packet nests); one that fails is reported (file and reason) and never
overwritten. Values we own (the rating, say ``1e999``) are simply replaced. Writes are atomic: a temporary
``.IMG.xmp.<token>.tmp`` in the same folder, flushed, then renamed over the old one; the temporary file is
locked while it exists, and the next ``write_sidecars`` removes those a killed run left (``leftovers``).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.dom import minidom
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException
from defusedxml.minidom import parseString as defused_parse_string

from artimuse_desktop import __version__
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import STATUS_ERROR, STATUS_OK
from artimuse_desktop.catalog.queries import assessments_for, get_score_model, photo_id_for_path, records_by_ids
from artimuse_desktop.catalog.records import AssessmentRecord, PhotoRecord
from artimuse_desktop.catalog.shown_values import attribute_values
from artimuse_desktop.export.leftovers import SIDECAR_TMP_PATTERN, mark_in_use, release, remove_leftovers
from artimuse_desktop.export.plan import RAW_EXTENSIONS, RENDERED_EXTENSIONS, find_pair
from artimuse_desktop.library.sidecar_import import import_sidecar_decisions
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
    SidecarProblem,
    parse_sidecar,
    read_sidecar,
    read_sidecar_bytes,
)
from artimuse_desktop.vocabulary import ATTRIBUTES, flag_word

__all__ = [
    "STYLES",
    "SidecarData",
    "SidecarDecisions",
    "SidecarError",
    "SidecarProblem",
    "SidecarWriteResult",
    "attribute_property",
    "import_sidecar_decisions",
    "read_sidecar",
    "sidecar_path",
    "write_sidecar",
    "write_sidecars",
]

log = logging.getLogger(__name__)

STYLES = ("lightroom", "darktable")
PREFERRED_PREFIXES = {
    NS_XMP: "xmp",
    NS_ARTIMUSE: "artimuse",
    NS_DARKTABLE: "darktable",
    NS_DIGIKAM: "digiKam",
    NS_RDF: "rdf",
}
_OWN_SIMPLE = ("Score", "Model", "ModelVersion", "Flag", "Rating", "ExperimentalAttributes")


def attribute_property(attribute: str) -> str:
    """The XMP property name of an attribute: "Composition & Design" → ``CompositionDesign``."""
    words = "".join(ch if ch.isalnum() else " " for ch in attribute).split()
    return "".join(word[:1].upper() + word[1:] for word in words)


ATTRIBUTE_PROPERTIES: dict[str, str] = {attribute: attribute_property(attribute) for attribute in ATTRIBUTES}


@dataclass(frozen=True)
class SidecarData:
    """Everything one sidecar receives, as plain values."""

    rating: int = 0
    flag: int = 0
    label: str | None = None
    score: float | None = None
    model: str | None = None
    model_version: str | None = None
    attributes: dict[str, float] = field(default_factory=dict)  # attribute name -> score
    experimental: set[str] = field(default_factory=set)  # attribute names whose score is experimental


@dataclass
class SidecarWriteResult:
    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (photo id, why)
    failed: list[SidecarProblem] = field(default_factory=list)
    leftovers_removed: list[Path] = field(default_factory=list)  # temporary files of an earlier, killed run


def sidecar_path(photo: str | Path, style: str = "lightroom") -> Path:
    """Where a photo's sidecar lives in this style, reusing an existing name that differs only in case."""
    if style not in STYLES:
        raise ValueError(f"unknown sidecar style {style!r}; use {', '.join(STYLES)}")
    path = Path(photo)
    wanted = (path.stem if style == "lightroom" else path.name) + ".xmp"
    try:
        with os.scandir(path.parent) as entries:
            for entry in entries:
                same = entry.name.casefold() == wanted.casefold() and entry.name != wanted
                if same and not os.path.exists(path.parent / wanted):
                    return path.parent / entry.name
    except OSError:
        pass
    return path.parent / wanted


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


def _remove_property(descriptions: Sequence[minidom.Element], uri: str, local: str) -> bool:
    """Remove every occurrence (attribute or element form); True when there was one."""
    found = False
    for description in descriptions:
        if description.hasAttributeNS(uri, local):
            description.removeAttributeNS(uri, local)
            found = True
        for child in list(description.childNodes):
            if child.nodeType == child.ELEMENT_NODE and child.namespaceURI == uri and child.localName == local:
                previous = child.previousSibling
                description.removeChild(child)
                if previous is not None and previous.nodeType == previous.TEXT_NODE and not previous.data.strip():
                    description.removeChild(previous)
                found = True
    return found


def _has_property(descriptions: Sequence[minidom.Element], uri: str, local: str) -> bool:
    for description in descriptions:
        if description.hasAttributeNS(uri, local):
            return True
        for child in description.childNodes:
            if child.nodeType == child.ELEMENT_NODE and child.namespaceURI == uri and child.localName == local:
                return True
    return False


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


def merge_into(document: minidom.Document, path: Path, data: SidecarData, style: str) -> None:
    """Replace our properties in ``document``; everything else stays as it was."""
    descriptions = _descriptions(document, path)
    target = descriptions[0]
    had_darktable = _has_property(descriptions, NS_DARKTABLE, "colorlabels")
    had_digikam_label = _has_property(descriptions, NS_DIGIKAM, "ColorLabel")
    had_digikam_pick = _has_property(descriptions, NS_DIGIKAM, "PickLabel")

    owned = [(NS_XMP, "Rating"), (NS_XMP, "Label"), (NS_XMP, "MetadataDate"), (NS_DARKTABLE, "colorlabels")]
    owned += [(NS_ARTIMUSE, name) for name in _OWN_SIMPLE]
    owned += [(NS_ARTIMUSE, prop) for prop in ATTRIBUTE_PROPERTIES.values()]
    owned += [(NS_DIGIKAM, "ColorLabel"), (NS_DIGIKAM, "PickLabel")]
    for uri, local in owned:
        _remove_property(descriptions, uri, local)

    rating = -1 if data.flag == -1 else max(0, min(5, data.rating))
    _set_attribute(target, NS_XMP, "MetadataDate", datetime.now().astimezone().isoformat(timespec="seconds"))
    _set_attribute(target, NS_XMP, "Rating", str(rating))
    if data.label:
        _set_attribute(target, NS_XMP, "Label", LIGHTROOM_LABELS[data.label])
    if had_digikam_label:
        number = {v: k for k, v in DIGIKAM_LABELS.items()}.get(data.label or "", 0)
        _set_attribute(target, NS_DIGIKAM, "ColorLabel", str(number))
    if had_digikam_pick:
        number = {v: k for k, v in DIGIKAM_PICKS.items()}.get(data.flag, 0)
        _set_attribute(target, NS_DIGIKAM, "PickLabel", str(number))
    _set_attribute(target, NS_ARTIMUSE, "Flag", flag_word(data.flag))
    _set_attribute(target, NS_ARTIMUSE, "Rating", str(max(0, min(5, data.rating))))
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
    if (style == "darktable" or had_darktable) and data.label:
        _append_seq(document, target, NS_DARKTABLE, "colorlabels", [str(DARKTABLE_LABELS.index(data.label))])


def _serialise(document: minidom.Document, had_declaration: bool) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>'] if had_declaration else []
    parts += [node.toxml() for node in document.childNodes if node.nodeType != node.DOCUMENT_TYPE_NODE]
    return ("\n".join(parts) + "\n").encode("utf-8")


def render_sidecar(existing: bytes | None, path: Path, data: SidecarData, style: str) -> bytes:
    """The new sidecar bytes: ``existing`` merged with our fields, or a fresh sidecar."""
    source = existing if existing is not None else _EMPTY_DOCUMENT.encode("utf-8")
    if existing is not None:
        parse_sidecar(existing, path)  # the hardened check first: minidom recurses and trusts its input
    try:
        document = defused_parse_string(source, forbid_dtd=True)
    except ExpatError as exc:
        raise SidecarError(path, f"not well-formed XML ({exc})") from exc
    except (DefusedXmlException, LookupError, ValueError, RecursionError) as exc:
        raise SidecarError(path, f"cannot be merged safely ({type(exc).__name__})") from exc
    try:
        if document.doctype is not None:
            raise SidecarError(path, "contains a DOCTYPE, which XMP never uses")
        merge_into(document, path, data, style)
        had_declaration = existing is None or existing.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml")
        return _serialise(document, had_declaration)
    finally:
        document.unlink()


def temporary_name(path: Path) -> Path:
    """The hidden name a sidecar is written under before it replaces ``path`` (see ``SIDECAR_TMP_PATTERN``)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")


def _atomic_write(path: Path, data: bytes, expected: os.stat_result | None) -> None:
    temporary = temporary_name(path)
    lock: int | None = None
    try:
        with open(temporary, "xb") as handle:
            lock = mark_in_use(temporary)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if expected is not None:
            os.chmod(temporary, expected.st_mode & 0o7777)
            now = os.stat(path)
            if (now.st_size, now.st_mtime_ns) != (expected.st_size, expected.st_mtime_ns):
                raise SidecarError(path, "another program changed it while we were writing; try again")
        elif os.path.lexists(path):
            raise SidecarError(path, "another program created it while we were writing; try again")
        os.replace(temporary, path)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        release(lock)


def write_sidecar(photo: str | Path, data: SidecarData, style: str = "lightroom") -> Path:
    """Create or merge the photo's sidecar; returns its path. Raises SidecarError, leaving the file alone."""
    path = sidecar_path(photo, style)
    existing: bytes | None = None
    expected: os.stat_result | None = None
    if os.path.lexists(path):
        existing, expected = read_sidecar_bytes(path)  # never a FIFO, device or endless file
    content = render_sidecar(existing, path, data, style)
    try:
        _atomic_write(path, content, expected)
    except OSError as exc:
        raise SidecarError(path, f"cannot write it: {exc.strerror or exc}") from exc
    return path


# ------------------------------------------------------------------------------------------ from the catalog


def sidecar_data(record: PhotoRecord, assessments: Sequence[AssessmentRecord], score_model: str) -> SidecarData:
    """Decisions from the record; score, model and attributes from the score model's assessment first."""
    own = next((a for a in assessments if a.model == score_model), None)
    shown = [
        value
        for value in attribute_values(assessments, score_model).values()
        if value.score is not None and value.attribute in ATTRIBUTE_PROPERTIES
    ]
    attributes = {value.attribute: value.score for value in shown if value.score is not None}
    experimental = {value.attribute for value in shown if value.experimental}
    return SidecarData(
        rating=record.rating,
        flag=record.flag,
        label=record.color_label,
        score=record.score,
        model=score_model if record.score is not None or own is not None else None,
        model_version=own.model_version if own is not None else None,
        attributes=attributes,
        experimental=experimental,
    )


def write_sidecars(
    catalog: Catalog, photo_ids: Sequence[int], style: str = "lightroom", *, dry_run: bool = False
) -> SidecarWriteResult:
    """Write (merge) sidecars for the photos; one bad file never stops the rest. Safe to call after each
    decision from the GUI ("write sidecar on every decision")."""
    if style not in STYLES:
        raise ValueError(f"unknown sidecar style {style!r}; use {', '.join(STYLES)}")
    result = SidecarWriteResult()
    jobs: list[tuple[int, str, SidecarData]] = []
    with catalog.read() as session:
        model = get_score_model(session)
        for record in records_by_ids(session, list(dict.fromkeys(photo_ids)), score_model=model):
            if record.status not in (STATUS_OK, STATUS_ERROR):
                result.skipped.append((record.id, f"the photo is {record.status}"))
                continue
            if style == "lightroom" and Path(record.path).suffix.lower() in RENDERED_EXTENSIONS:
                raw_partners = [p for p in find_pair(Path(record.path)) if p.suffix.lower() in RAW_EXTENSIONS]
                if any(photo_id_for_path(session, str(p)) is not None for p in raw_partners):
                    result.skipped.append(
                        (record.id, f"{sidecar_path(record.path, style).name} belongs to its RAW partner")
                    )
                    continue
            jobs.append((record.id, record.path, sidecar_data(record, assessments_for(session, record.id), model)))
    if not dry_run:
        folders = [Path(path).parent for _photo_id, path, _data in jobs]
        result.leftovers_removed = remove_leftovers(folders, SIDECAR_TMP_PATTERN)
    for photo_id, path, data in jobs:
        if not os.path.exists(path):
            result.skipped.append((photo_id, "the photo file is missing"))
            continue
        if dry_run:
            result.written.append(sidecar_path(path, style))
            continue
        try:
            result.written.append(write_sidecar(path, data, style))
        except SidecarError as exc:
            log.info("%s", exc.message)  # the caller reports each failure once
            result.failed.append(SidecarProblem(exc.path, exc.reason, photo_id))
    return result
