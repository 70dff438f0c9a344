"""Reading ratings, reject flags and colour labels from the XMP sidecars other apps write.

Forms understood (attribute form ``<rdf:Description xmp:Rating="3"/>`` and element form
``<xmp:Rating>3</xmp:Rating>`` alike, in any of several ``rdf:Description`` blocks):

* ``xmp:Rating`` 0–5, with ``-1`` meaning rejected (Lightroom Classic, darktable, Capture One, digiKam);
* ``xmp:Label`` with Lightroom's colour names (Red, Yellow, Green, Blue, Purple; Magenta is read as purple);
* darktable's ``darktable:colorlabels``, an ``rdf:Seq`` of 0–4 = red, yellow, green, blue, purple;
* digiKam's ``digiKam:ColorLabel`` (1 red, 3 yellow, 4 green, 5 blue, 6 magenta) and ``digiKam:PickLabel``
  (1 rejected, 3 accepted);
* our own ``artimuse:Flag`` and ``artimuse:Rating`` (the stars behind a reject).

Importing into the catalog never overrides the photographer: a sidecar value is copied only where the photo's
own decision is unset (flag none, rating 0, no label); see ``import_sidecar_decisions``.
"""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.errors import ExportError
from artimuse_desktop.vocabulary import COLOR_LABELS, LABEL_ALIASES, LABELS

log = logging.getLogger(__name__)

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_DARKTABLE = "http://darktable.sf.net/"
NS_DIGIKAM = "http://www.digikam.org/ns/1.0/"
NS_ARTIMUSE = "https://artimuse.app/ns/1.0/"
NS_XMLNS = "http://www.w3.org/2000/xmlns/"

LIGHTROOM_LABELS: dict[str, str] = {label.name: label.lightroom for label in LABELS}
DARKTABLE_LABELS: tuple[str, ...] = COLOR_LABELS
DIGIKAM_LABELS: dict[int, str] = {label.digikam: label.name for label in LABELS}
DIGIKAM_PICKS: dict[int, int] = {1: -1, 2: 0, 3: 1}
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


def read_bytes_checked(path: Path) -> bytes:
    """The sidecar's bytes, refusing what no XMP writer produces (huge files, DOCTYPE, entities)."""
    try:
        size = os.stat(path).st_size
        if size > MAX_SIDECAR_BYTES:
            raise SidecarError(path, f"too large for a sidecar ({size} bytes)")
        data = path.read_bytes()
    except OSError as exc:
        raise SidecarError(path, f"cannot read it: {exc.strerror or exc}") from exc
    if not data.strip():
        raise SidecarError(path, "the file is empty")
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise SidecarError(path, "contains a DOCTYPE or entity declarations, which XMP never uses")
    return data


def _parse_tree(path: Path) -> ET.Element:
    data = read_bytes_checked(path)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise SidecarError(path, f"not well-formed XML ({exc})") from exc
    if root.tag != f"{{{NS_RDF}}}RDF" and root.find(f".//{{{NS_RDF}}}RDF") is None:
        raise SidecarError(path, "no rdf:RDF element: not an XMP sidecar")
    return root


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


def _int(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return round(float(value.strip()))
    except ValueError:
        return None


def label_from_name(name: str | None) -> str | None:
    """Lightroom's label name (any case) to ours; unknown names (custom label sets) give None."""
    if not name:
        return None
    key = name.strip().lower()
    key = LABEL_ALIASES.get(key, key)
    return key if key in LIGHTROOM_LABELS else None


def decisions_from_tree(root: ET.Element) -> SidecarDecisions:
    props = _properties(root)
    rating: int | None = None
    flag: int | None = None
    xmp_rating = _int(_first(props, NS_XMP, "Rating"))
    own_flag = (_first(props, NS_ARTIMUSE, "Flag") or "").strip().lower()
    own_rating = _int(_first(props, NS_ARTIMUSE, "Rating"))
    if xmp_rating is not None:
        if xmp_rating < 0:
            flag = -1
            rating = own_rating if own_rating is not None and 0 <= own_rating <= 5 else None
        else:
            rating = min(xmp_rating, 5)
            # Our pick survives only while another app has not changed the rating we wrote beside it.
            if own_flag == "pick":
                flag = 1
            elif own_flag in ("none", "reject"):
                flag = 0
    elif own_rating is not None and 0 <= own_rating <= 5:
        rating = own_rating
        flag = {"pick": 1, "reject": -1, "none": 0}.get(own_flag)
    pick_label = _int(_first(props, NS_DIGIKAM, "PickLabel"))
    if flag in (None, 0) and pick_label in DIGIKAM_PICKS and DIGIKAM_PICKS[pick_label] != 0:
        flag = DIGIKAM_PICKS[pick_label]

    label = label_from_name(_first(props, NS_XMP, "Label"))
    if label is None:
        for value in props.get(f"{{{NS_DARKTABLE}}}colorlabels", []):
            index = _int(value)
            if index is not None and 0 <= index < len(DARKTABLE_LABELS):
                label = DARKTABLE_LABELS[index]
                break
    if label is None:
        label = DIGIKAM_LABELS.get(_int(_first(props, NS_DIGIKAM, "ColorLabel")) or 0)
    return SidecarDecisions(rating=rating, flag=flag, label=label)


def read_sidecar(path: str | Path) -> SidecarDecisions:
    """Decisions in one sidecar. Raises SidecarError (naming the file and the reason) when it is unusable."""
    return decisions_from_tree(_parse_tree(Path(path)))


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


def combined_decisions(sidecars: Sequence[Path], problems: list[SidecarProblem] | None = None) -> SidecarDecisions:
    """Field by field, the first sidecar that says something wins (the photo's own before the shared one)."""
    rating = flag = None
    label = None
    for sidecar in sidecars:
        try:
            found = read_sidecar(sidecar)
        except SidecarError as exc:
            log.warning("%s", exc.message)
            if problems is not None:
                problems.append(SidecarProblem(sidecar, exc.reason))
            continue
        rating = found.rating if rating is None else rating
        flag = found.flag if flag is None else flag
        label = found.label if label is None else label
    return SidecarDecisions(rating, flag, label)


# ---------------------------------------------------------------------------------------------- importing


def import_sidecar_decisions(
    catalog: Catalog,
    photo_ids: Sequence[int] | None = None,
    *,
    problems: list[SidecarProblem] | None = None,
) -> int:
    """Copy ratings, reject/pick flags and labels from sidecars into photos whose own decision is unset.

    Precedence: the catalog wins. A field is filled only where the photo has no decision of that kind (flag
    none, rating 0, no label), checked again inside the write so a decision made meanwhile is never replaced.
    The photo's own ``IMG.CR2.xmp`` is read before the shared ``IMG.xmp``. Imported values are the photo's
    starting state, not an edit: they add no undo step. Unreadable sidecars are skipped and listed in
    ``problems``. Returns how many photos changed. ``photo_ids=None`` means every photo not in the trash.
    """
    from sqlalchemy import select, update

    from artimuse_desktop.catalog.models import STATUS_ERROR, STATUS_OK, Photo

    with catalog.read() as session:
        stmt = select(Photo.id, Photo.path, Photo.flag, Photo.rating, Photo.color_label).where(
            Photo.status.in_([STATUS_OK, STATUS_ERROR])
        )
        rows: list[tuple[int, str, int, int, str | None]] = []
        if photo_ids is None:
            rows = [(r[0], r[1], r[2], r[3], r[4]) for r in session.execute(stmt)]
        else:
            ids = list(dict.fromkeys(photo_ids))
            for start in range(0, len(ids), 900):
                chunk = stmt.where(Photo.id.in_(ids[start : start + 900]))
                rows += [(r[0], r[1], r[2], r[3], r[4]) for r in session.execute(chunk)]

    cache: dict[Path, dict[str, str]] = {}
    updates: list[tuple[int, SidecarDecisions]] = []
    for photo_id, path, flag, rating, label in rows:
        if flag != 0 and rating != 0 and label is not None:
            continue
        sidecars = sidecars_for(path, cache)
        if not sidecars:
            continue
        local: list[SidecarProblem] = []
        found = combined_decisions(sidecars, local)
        if problems is not None:
            problems.extend(SidecarProblem(p.path, p.reason, photo_id) for p in local)
        wanted = SidecarDecisions(
            rating=found.rating if rating == 0 and found.rating else None,
            flag=found.flag if flag == 0 and found.flag else None,
            label=found.label if label is None and found.label else None,
        )
        if not wanted.empty:
            updates.append((photo_id, wanted))
    if not updates:
        return 0
    changed: set[int] = set()
    now = datetime.now()
    with catalog.write() as session:
        for photo_id, wanted in updates:
            if wanted.flag is not None:
                result = session.execute(
                    update(Photo).where(Photo.id == photo_id, Photo.flag == 0).values(flag=wanted.flag, decided_at=now)
                )
                if result.rowcount:  # type: ignore[attr-defined]
                    changed.add(photo_id)
            if wanted.rating is not None:
                result = session.execute(
                    update(Photo)
                    .where(Photo.id == photo_id, Photo.rating == 0)
                    .values(rating=wanted.rating, decided_at=now)
                )
                if result.rowcount:  # type: ignore[attr-defined]
                    changed.add(photo_id)
            if wanted.label is not None:
                result = session.execute(
                    update(Photo)
                    .where(Photo.id == photo_id, Photo.color_label.is_(None))
                    .values(color_label=wanted.label, decided_at=now)
                )
                if result.rowcount:  # type: ignore[attr-defined]
                    changed.add(photo_id)
    return len(changed)
