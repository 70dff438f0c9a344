"""File names for exported photos from a template, made safe so that no template can write outside DEST.

A template such as ``{rank}_{original}`` or ``{date:%Y-%m-%d}/{camera}_{seq}`` renders to a path relative to
the export folder. Slashes written in the template itself create sub-folders; everything a *field* produces is
neutralised (separators, control characters, characters Windows forbids, ``.``/``..``), absolute templates and
``..`` components are refused, and the final resolved path is checked to lie inside DEST. The extension is not
part of the template: the photo's own extension is always appended (a trailing ``.{ext}`` is accepted and
dropped), so companions (RAW+JPEG, sidecars) can share the stem.
"""

from __future__ import annotations

import os
import re
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from artimuse_desktop import formatting

DEFAULT_TEMPLATE = "{original}"
FIELDS: tuple[str, ...] = (
    "original",
    "ext",
    "date",
    "camera",
    "lens",
    "score",
    "rank",
    "seq",
    "label",
    "rating",
    "flag",
)
SUFFIX_STYLES = {"paren": " ({n})", "dash": "-{n}"}
MAX_COMPONENT_BYTES = 200  # under every common file system's 255-byte limit, leaving room for suffixes
_FORBIDDEN = set('/\\:*?"<>|')
_WINDOWS_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}
_FLAG_NAMES = {1: "pick", -1: "reject", 0: ""}


class TemplateError(ValueError):
    """A naming template that cannot be used; the message says why."""


@dataclass(frozen=True)
class NameFields:
    """Plain values one photo offers to the template (None: unknown)."""

    original: str
    ext: str  # without the dot
    captured_at: datetime | None = None
    camera: str | None = None
    lens: str | None = None
    score: float | None = None
    rank: int = 1
    seq: int = 1
    total: int = 1  # sets the zero-padding of rank and seq
    label: str | None = None
    rating: int = 0
    flag: int = 0


def camera_name(make: str | None, model: str | None) -> str | None:
    """ "Canon EOS R5" rather than "Canon Canon EOS R5": the one rule the panel and the grid use too."""
    return formatting.camera_name(make, model)


def _is_control(ch: str) -> bool:
    # Cc: C0/C1 controls; Cf: invisible format characters (bidi overrides can disguise an extension).
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") or ch in ("\u2028", "\u2029")


def neutralise_value(value: str) -> str:
    """A field value made harmless: no separators, controls or forbidden characters, never ``.`` or ``..``."""
    cleaned = "".join("_" if (ch in _FORBIDDEN or _is_control(ch)) else ch for ch in value)
    cleaned = unicodedata.normalize("NFC", cleaned)
    if cleaned.strip(" .") == "" and cleaned:
        return "_"
    return cleaned


def _clean_component(component: str) -> str:
    """One path component made portable: no leading dots (hidden, ``..``), no trailing dots or spaces."""
    component = "".join("_" if (ch in _FORBIDDEN or _is_control(ch)) else ch for ch in component)
    component = component.strip().lstrip(".").rstrip(" .")
    if component.split(".")[0].lower() in _WINDOWS_RESERVED:
        component = "_" + component
    return truncate_bytes(component, MAX_COMPONENT_BYTES)


def truncate_bytes(text: str, limit: int) -> str:
    """Cut ``text`` so its UTF-8 form fits ``limit`` bytes without splitting a character."""
    encoded = text.encode("utf-8", "surrogateescape")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", "ignore").rstrip(" .")


def _parsed(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    try:
        return list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"the template {template!r} is malformed: {exc}") from None


def validate_template(template: str) -> str:
    """Return the template when usable; raise TemplateError for unknown fields, absolute paths or ``..``."""
    if not template or not template.strip():
        raise TemplateError("the template is empty")
    if any(_is_control(ch) for ch in template):
        raise TemplateError("the template contains control characters")
    literal_text = "".join(literal for literal, *_ in _parsed(template)).replace("\\", "/")
    first = template.replace("\\", "/")
    if first.startswith("/") or re.match(r"^[A-Za-z]:", first) or first.startswith("~"):
        raise TemplateError(f"the template {template!r} must be relative to the export folder")
    if any(part == ".." for part in literal_text.split("/")) or ".." in PurePosixPath(first).parts:
        raise TemplateError(f"the template {template!r} must not climb out of the export folder with '..'")
    for _literal, field, spec, conversion in _parsed(template):
        if field is None:
            continue
        if field not in FIELDS:
            raise TemplateError(f"unknown field {{{field}}} in the template; known: {', '.join(FIELDS)}")
        if conversion:
            raise TemplateError(f"conversions such as !{conversion} are not supported in the template")
        if spec and "{" in spec:
            raise TemplateError("nested fields are not supported in the template")
    return template


def _field_value(field: str, spec: str, fields: NameFields) -> str:
    width = max(3, len(str(fields.total)))
    value: Any
    if field == "original":
        value = fields.original
    elif field == "ext":
        value = fields.ext
    elif field == "date":
        if fields.captured_at is None:
            return "undated"
        return fields.captured_at.strftime(spec or "%Y%m%d")
    elif field == "camera":
        value = fields.camera or "unknown camera"
    elif field == "lens":
        value = fields.lens or "unknown lens"
    elif field == "score":
        if fields.score is None:
            return "unscored"
        return format(fields.score, spec) if spec else str(round(fields.score))
    elif field in ("rank", "seq"):
        number = fields.rank if field == "rank" else fields.seq
        return format(number, spec) if spec else str(number).zfill(width)
    elif field == "label":
        value = fields.label or ""
    elif field == "rating":
        value = fields.rating
    elif field == "flag":
        value = _FLAG_NAMES.get(fields.flag, "")
    else:  # pragma: no cover - validate_template guards this
        raise TemplateError(f"unknown field {field}")
    try:
        return format(value, spec)
    except (ValueError, TypeError) as exc:
        raise TemplateError(f"the format {spec!r} does not suit {{{field}}}: {exc}") from None


def render_relative(template: str, fields: NameFields) -> PurePosixPath:
    """The destination stem (no extension) relative to DEST, as safe path components."""
    validate_template(template)
    pieces: list[str] = []
    for literal, field, spec, _conversion in _parsed(template):
        pieces.append(literal.replace("\\", "/"))
        if field is not None:
            try:
                rendered = _field_value(field, spec or "", fields)
            except ValueError as exc:
                raise TemplateError(f"the format {spec!r} does not suit {{{field}}}: {exc}") from None
            pieces.append(neutralise_value(rendered))
    text = "".join(pieces)
    ext = fields.ext
    if ext and text.lower().endswith("." + ext.lower()):
        text = text[: -len(ext) - 1]
    components = [_clean_component(part) for part in text.split("/")]
    components = [part for part in components if part and part not in (".", "..")]
    if not components:
        fallback = _clean_component(neutralise_value(fields.original)) or "photo"
        components = [fallback]
    return PurePosixPath(*components)


def with_suffix_number(stem: str, number: int, style: str = "paren") -> str:
    """``IMG_1 (2)`` or ``IMG_1-2``: the stem for the ``number``-th file wanting the same name."""
    pattern = SUFFIX_STYLES.get(style, style)
    suffix = pattern.format(n=number)
    return truncate_bytes(stem, MAX_COMPONENT_BYTES - len(suffix.encode())) + suffix


def collision_key(relative: PurePosixPath | str) -> str:
    """The key under which two names collide: case- and normalisation-insensitive (macOS, Windows)."""
    return unicodedata.normalize("NFC", str(relative)).casefold()


def ensure_inside(dest: Path, relative: PurePosixPath | str) -> Path:
    """``dest / relative`` after checking that its real path (symlinks resolved) stays inside ``dest``."""
    base = os.path.realpath(dest)
    target = os.path.realpath(os.path.join(base, str(relative)))
    if os.path.commonpath([base, target]) != base or target == base:
        raise TemplateError(f"the name {str(relative)!r} would land outside the export folder {dest}")
    return Path(dest) / str(relative)


def existing_names(folder: Path) -> set[str]:
    """Collision keys of what already lies in ``folder`` (empty when it does not exist yet)."""
    try:
        with os.scandir(folder) as entries:
            return {collision_key(entry.name) for entry in entries}
    except OSError:
        return set()


class NameAllocator:
    """Hands out destination names that collide neither with each other nor with files already in DEST.

    A group (a photo plus its companions) gets one suffix number for all of its names, so ``IMG_1 (2).CR2``
    travels with ``IMG_1 (2).JPG`` and ``IMG_1 (2).xmp``.
    """

    def __init__(self, dest: Path, style: str = "paren") -> None:
        self.dest = Path(dest)
        self.style = style
        self._taken: set[str] = set()
        self._listed: dict[str, set[str]] = {}

    def _exists(self, relative: PurePosixPath) -> bool:
        parent = str(relative.parent)
        if parent not in self._listed:
            self._listed[parent] = existing_names(self.dest / parent)
        return collision_key(relative.name) in self._listed[parent] or os.path.lexists(self.dest / relative)

    def find_existing(
        self, stem: PurePosixPath, suffixes: Iterable[str], same: Callable[[list[PurePosixPath]], bool]
    ) -> PurePosixPath | None:
        """A name already in DEST (``stem``, ``stem (2)`` …) whose files ``same`` says hold this group; claimed."""
        wanted = list(suffixes)
        number = 1
        while number <= 1000:
            name = stem.name if number == 1 else with_suffix_number(stem.name, number, self.style)
            candidate = stem.with_name(name)
            paths = [candidate.with_name(name + suffix) for suffix in wanted]
            keys = [collision_key(path) for path in paths]
            if not all(self._exists(path) for path in paths) or any(key in self._taken for key in keys):
                return None
            if same(paths):
                self._taken.update(keys)
                return candidate
            number += 1
        return None

    def allocate(self, stem: PurePosixPath, suffixes: Iterable[str]) -> PurePosixPath:
        """A free stem such that ``stem + s`` is free for every suffix (``.CR2``, ``.JPG``, ``.CR2.xmp``)."""
        wanted = list(suffixes)
        if len({suffix.casefold() for suffix in wanted}) != len(wanted):
            raise TemplateError(f"two files of one group would share a name: {', '.join(wanted)}")
        number = 1
        while True:
            name = stem.name if number == 1 else with_suffix_number(stem.name, number, self.style)
            candidate = stem.with_name(name)
            paths = [candidate.with_name(name + suffix) for suffix in wanted]
            keys = [collision_key(path) for path in paths]
            if not any(key in self._taken or self._exists(path) for key, path in zip(keys, paths, strict=True)):
                for path in paths:
                    ensure_inside(self.dest, path)
                self._taken.update(keys)
                return candidate
            number += 1
            if number > 100_000:  # pragma: no cover - a folder with 100k copies of one name
                raise TemplateError(f"no free name for {stem} in {self.dest}")


def names_by_casefold(folder: Path) -> dict[str, list[str]]:
    """The folder's entries by case-folded name (a case-sensitive folder may hold IMG.xmp and IMG.XMP);
    an unreadable folder lists as empty."""
    names: dict[str, list[str]] = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                names.setdefault(entry.name.casefold(), []).append(entry.name)
    except OSError:
        pass
    return names
