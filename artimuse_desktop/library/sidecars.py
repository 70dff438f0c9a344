"""Reading ratings, reject flags and colour labels from the XMP sidecars other apps write.

Forms understood (attribute form ``<rdf:Description xmp:Rating="3"/>`` and element form
``<xmp:Rating>3</xmp:Rating>`` alike, in any of several ``rdf:Description`` blocks):

* ``xmp:Rating`` 0–5, with ``-1`` meaning rejected (Lightroom Classic, darktable, Capture One, digiKam);
* ``xmp:Label`` with Lightroom's colour names (Red, Yellow, Green, Blue, Purple; Magenta is read as purple);
  other names (Lightroom's custom label sets) are not ours and are left out;
* darktable's ``darktable:colorlabels``, an ``rdf:Seq`` of 0–4 = red, yellow, green, blue, purple;
* digiKam's ``digiKam:ColorLabel`` (1 red, 3 yellow, 4 green, 5 blue, 6 magenta) and ``digiKam:PickLabel``
  (1 rejected, 3 accepted);
* Photo Mechanic's ``photomechanic:ColorClass`` 0–8 in its default colours (1 red, 3 yellow, 4 green, 5 blue,
  6 purple; 2 orange, 7 and 8 have no label of ours), beside the ``xmp:Rating`` it writes;
* our own ``artimuse:Flag`` and ``artimuse:Rating`` (the stars behind a reject).

A sidecar is untrusted input: ``safe_xml`` reads only regular files up to ``MAX_SIDECAR_BYTES`` and parses
with defusedxml; every value we take is checked (a rating is a whole number from -1 to 5, never ``1e999`` or
5,000 digits; label numbers are in range; flags are words we know). A sidecar that fails any check is one
``SidecarError`` naming the file and the reason; nothing of it is used, and the file is never touched.
Importing into the catalog (``sidecar_import``) never overrides the photographer.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from artimuse_desktop.errors import ExportError
from artimuse_desktop.library.safe_xml import RefusedXml, parse_untrusted, read_regular_file
from artimuse_desktop.vocabulary import COLOR_LABELS, LABEL_ALIASES, LABELS

if TYPE_CHECKING:  # parsed trees only: the parser itself loads with the first sidecar (``safe_xml``)
    import xml.etree.ElementTree as ET

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_DARKTABLE = "http://darktable.sf.net/"
NS_DIGIKAM = "http://www.digikam.org/ns/1.0/"
NS_PHOTOMECHANIC = "http://ns.camerabits.com/photomechanic/1.0/"
NS_ARTIMUSE = "https://artimuse.app/ns/1.0/"
NS_XMLNS = "http://www.w3.org/2000/xmlns/"

LIGHTROOM_LABELS: dict[str, str] = {label.name: label.lightroom for label in LABELS}
DARKTABLE_LABELS: tuple[str, ...] = COLOR_LABELS
DIGIKAM_LABELS: dict[int, str] = {label.digikam: label.name for label in LABELS}
DIGIKAM_PICKS: dict[int, int] = {1: -1, 2: 0, 3: 1}
#: Photo Mechanic's colour classes in its default colours: the same numbers as digiKam's for ours.
PHOTOMECHANIC_LABELS: dict[int, str] = dict(DIGIKAM_LABELS)
MAX_SIDECAR_BYTES = 16 * 1024 * 1024  # darktable histories can be large, but not this large


class SidecarError(ExportError):
    """A sidecar we cannot safely read or merge into; it is reported and left untouched."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}", hint="fix or remove the sidecar; it was left untouched")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True)
class SidecarDecisions:
    """What a sidecar says; None means the sidecar does not say (not "cleared")."""

    rating: int | None = None  # 0–5 stars
    flag: int | None = None  # -1 reject, 0 none, 1 pick
    label: str | None = None  # red | yellow | green | blue | purple

    @property
    def empty(self) -> bool:
        return self.rating is None and self.flag is None and self.label is None


@dataclass(frozen=True)
class SidecarProblem:
    path: Path
    reason: str
    photo_id: int | None = None


def read_sidecar_bytes(path: Path) -> tuple[bytes, os.stat_result]:
    """The sidecar's bytes and ``fstat``: a regular file of at most ``MAX_SIDECAR_BYTES``, never a FIFO or
    device (``safe_xml.read_regular_file``)."""
    try:
        data, info = read_regular_file(path, MAX_SIDECAR_BYTES)
    except RefusedXml as exc:
        raise SidecarError(path, exc.reason) from exc
    if not data.strip():
        raise SidecarError(path, "the file is empty")
    return data, info


def parse_sidecar(data: bytes, path: Path) -> ET.Element:
    """The hardened parse of a sidecar's bytes (no DOCTYPE, entities, odd encodings or deep nesting)."""
    try:
        root = parse_untrusted(data)
    except RefusedXml as exc:
        raise SidecarError(path, exc.reason) from exc
    if root.tag != f"{{{NS_RDF}}}RDF" and root.find(f".//{{{NS_RDF}}}RDF") is None:
        raise SidecarError(path, "no rdf:RDF element: not an XMP sidecar")
    return root


def _parse_tree(path: Path) -> ET.Element:
    return parse_sidecar(read_sidecar_bytes(path)[0], path)


def _properties(root: ET.Element) -> dict[str, list[str]]:
    """``{"{ns}Local": [values]}`` from every rdf:Description, attributes and elements (Seq/Bag/Alt items)."""
    props: dict[str, list[str]] = {}
    for description in root.iter(f"{{{NS_RDF}}}Description"):
        for key, value in description.attrib.items():
            if not key.startswith(f"{{{NS_RDF}}}"):
                props.setdefault(key, []).append(value)
        for child in description:
            if not isinstance(child.tag, str):
                continue
            items = [li.text or "" for li in child.iter(f"{{{NS_RDF}}}li")]
            if items:
                props.setdefault(child.tag, []).extend(item.strip() for item in items)
            elif len(child) == 0:
                props.setdefault(child.tag, []).append((child.text or "").strip())
    return props


def _first(props: dict[str, list[str]], ns: str, local: str) -> str | None:
    values = props.get(f"{{{ns}}}{local}")
    return values[0] if values else None


class _BadValue(Exception):
    """A value no XMP writer produces; becomes the sidecar's one SidecarError."""


_WHOLE = re.compile(r"[+-]?[0-9]{1,3}(?:\.0{0,6})?")


def _shown(text: str) -> str:
    """A value quoted for a message: short, printable (a 5,000-digit "rating" shows its length instead)."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text[:24])
    return f'"{clean}"' if len(text) <= 24 else f'"{clean[:20]}…" ({len(text)} characters)'


def _whole(value: str | None, low: int, high: int, name: str) -> int | None:
    """A whole number from ``low`` to ``high`` ("3" or "3.0"); None when absent or blank."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not _WHOLE.fullmatch(text) or not low <= int(float(text)) <= high:
        raise _BadValue(f"{name} is {_shown(text)}, not a whole number from {low} to {high}")
    return int(float(text))


def _flag_word(value: str | None) -> str:
    word = (value or "").strip().lower()
    if word not in ("", "pick", "none", "reject"):
        raise _BadValue(f"artimuse:Flag is {_shown(word)}, not pick, none or reject")
    return word


def label_from_name(name: str | None) -> str | None:
    """Lightroom's label name (any case) to ours; unknown names (custom label sets) give None."""
    if not name:
        return None
    key = name.strip().lower()
    key = LABEL_ALIASES.get(key, key)
    return key if key in LIGHTROOM_LABELS else None


def decisions_from_tree(root: ET.Element) -> SidecarDecisions:
    """What the sidecar says; raises ``_BadValue`` when a value we read is not one any app writes."""
    props = _properties(root)
    rating: int | None = None
    flag: int | None = None
    xmp_rating = _whole(_first(props, NS_XMP, "Rating"), -1, 5, "xmp:Rating")
    own_flag = _flag_word(_first(props, NS_ARTIMUSE, "Flag"))
    own_rating = _whole(_first(props, NS_ARTIMUSE, "Rating"), 0, 5, "artimuse:Rating")
    if xmp_rating is not None:
        if xmp_rating < 0:
            flag = -1
            rating = own_rating
        else:
            rating = xmp_rating
            # Our pick survives only while another app has not changed the rating we wrote beside it.
            if own_flag == "pick":
                flag = 1
            elif own_flag in ("none", "reject"):
                flag = 0
    elif own_rating is not None:
        rating = own_rating
        flag = {"pick": 1, "reject": -1, "none": 0}.get(own_flag)
    pick_label = _whole(_first(props, NS_DIGIKAM, "PickLabel"), 0, 3, "digiKam:PickLabel")
    if flag in (None, 0) and pick_label in DIGIKAM_PICKS and DIGIKAM_PICKS[pick_label] != 0:
        flag = DIGIKAM_PICKS[pick_label]

    name = _first(props, NS_XMP, "Label")
    if name is not None and len(name) > 200:
        raise _BadValue(f"xmp:Label is {_shown(name)}, longer than any label name")
    label = label_from_name(name)
    colorlabels = props.get(f"{{{NS_DARKTABLE}}}colorlabels", [])
    last = len(DARKTABLE_LABELS) - 1
    numbers = [_whole(value, 0, last, "darktable:colorlabels") for value in colorlabels[:64]]
    if label is None:
        label = next((DARKTABLE_LABELS[n] for n in numbers if n is not None), None)
    digikam_label = _whole(_first(props, NS_DIGIKAM, "ColorLabel"), 0, 10, "digiKam:ColorLabel")
    if label is None:
        label = DIGIKAM_LABELS.get(digikam_label or 0)
    color_class = _whole(_first(props, NS_PHOTOMECHANIC, "ColorClass"), 0, 8, "photomechanic:ColorClass")
    if label is None:
        label = PHOTOMECHANIC_LABELS.get(color_class or 0)
    return SidecarDecisions(rating=rating, flag=flag, label=label)


def read_sidecar(path: str | Path) -> SidecarDecisions:
    """Decisions in one sidecar. Raises SidecarError (naming the file and the reason) when it is unusable."""
    return decisions_from_bytes(read_sidecar_bytes(Path(path))[0], Path(path))


def decisions_from_bytes(data: bytes, path: Path) -> SidecarDecisions:
    """Decisions in a sidecar's bytes; ``path`` names it in the SidecarError raised when it is unusable."""
    root = parse_sidecar(data, path)
    try:
        return decisions_from_tree(root)
    except _BadValue as exc:
        raise SidecarError(path, str(exc)) from exc


def read_artimuse_fields(path: str | Path) -> dict[str, str]:
    """Our own namespace's simple properties, by local name (for tests and diagnostics)."""
    props = _properties(_parse_tree(Path(path)))
    prefix = f"{{{NS_ARTIMUSE}}}"
    return {key[len(prefix) :]: values[0] for key, values in props.items() if key.startswith(prefix) and values}


# ---------------------------------------------------------------------------------------------- finding


def _listing(folder: Path, cache: dict[Path, dict[str, str]] | None) -> dict[str, str]:
    if cache is not None and folder in cache:
        return cache[folder]
    names: dict[str, str] = {}
    try:
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                names.setdefault(entry.name.casefold(), entry.name)
    except OSError:
        pass
    if cache is not None:
        cache[folder] = names
    return names


def sidecars_for(photo: str | Path, cache: dict[Path, dict[str, str]] | None = None) -> list[Path]:
    """Existing sidecars of a photo, most specific first: ``IMG.CR2.xmp`` (its own), then ``IMG.xmp``."""
    path = Path(photo)
    names = _listing(path.parent, cache)
    found = []
    for wanted in (path.name + ".xmp", path.stem + ".xmp"):
        actual = names.get(wanted.casefold())
        if actual is not None and (path.parent / actual) not in found:
            found.append(path.parent / actual)
    return found
