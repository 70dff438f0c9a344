"""Which frame of a stack to keep, and a short reason the panel can show.

The rules run in order and the first one that tells two frames apart decides:

1. a RAW file over a JPEG/HEIC/TIFF (the RAW of a RAW+JPEG pair is the negative, the JPEG a rendering);
2. the camera's own file over a copy: names like ``X copy``, ``X (2)``, ``X-1``, ``X-Edit``, resized
   ``picos_1600``, or files inside export folders (``Exports``, ``Web``, ``Print``, ``Output``, ``edited`` ...);
3. the higher resolution (width x height);
4. the photographer's own rating;
5. the score (a rank from the catalog's own sort, so "best" agrees with the grid);
6. the path, so the choice never depends on the order rows came back in.

A burst is one scene shot several times, so before the rules existed keep best by score alone happily kept
``DSC_0415 copy.JPG`` and rejected the original. Copy detection works on names and folders only: the rule only
has to tell a copy from its original inside one stack, so a false "copy" costs nothing when every frame has it.

Plain data, no catalog and no Qt: the burst finder and (later) exact-duplicate grouping share these rules.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from artimuse_desktop.imaging.formats import RAW_FORMATS

#: Folder names that hold copies made from the originals (compared case-insensitively, any path level).
EXPORT_FOLDERS: frozenset[str] = frozenset(
    {
        "export", "exports", "exported", "web", "print", "prints", "output", "outputs", "edited", "edits",
        "edit", "resized", "processed", "retouched", "developed", "social", "instagram", "for web", "for print",
        "lightroom exports", "darktable_exported",
    }
)  # fmt: skip

#: Long-edge sizes that mark a resized copy when a name ends with them (``picos_1600``, ``IMG-2048px``).
RESIZE_SIZES: frozenset[int] = frozenset(
    {320, 400, 480, 500, 540, 600, 640, 720, 750, 800, 960, 1000, 1024, 1080, 1200, 1280, 1366, 1440,
     1500, 1600, 1800, 1920, 2048, 2400, 2500, 2560, 3000, 3200, 3840, 4000, 4096}
)  # fmt: skip

_RENDERED = frozenset({"JPEG", "HEIC", "TIFF", "PNG", "WEBP", "AVIF"})

# Names cameras and phones write: IMG_1234, DSC_0415, _DSC0415, DSCF1234, _MG_1234, P1010001, IMGP1234,
# L1000001, and date-time names (20240501_101010, IMG_20240501_101010, PXL_20240501_101010123).
_CAMERA_NAME = re.compile(r"_?[A-Z]{1,4}_?\d{3,}|(?:[A-Z]{2,4}_)?\d{8}_\d{6,9}(?:_\d{1,3})?")
_EDIT_WORDS = r"[-_ ](?:edit(?:ed)?|retouch(?:ed)?|final|web|print|export(?:ed)?|small|resized)(?:[-_ ]?\d+)?$"
_COPY_MARKERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^copy of ", re.IGNORECASE), "copy"),
    (re.compile(r"(?:\s+-)?\s+copy(?:\s*\(?\d+\)?)?$", re.IGNORECASE), "copy"),
    (re.compile(r"\s*\(\d+\)$"), "numbered copy"),
    (re.compile(_EDIT_WORDS, re.IGNORECASE), "edit"),
    (re.compile(r"(?<![-_]\d\d)[- ]\d{1,2}$"), "numbered copy"),  # X-1, X 2; not the day of 2024-05-01
)
_RESIZED = re.compile(r"[-_ @]w?(\d{3,4})(?:px|w)?$", re.IGNORECASE)


def is_raw_file(fmt: str | None, filename: str) -> bool:
    """Whether a photo is a camera RAW: by the indexed format, else (no format stored) by its extension."""
    if fmt:
        return fmt.upper() in RAW_FORMATS
    return os.path.splitext(filename)[1].lstrip(".").upper() in RAW_FORMATS


@lru_cache(maxsize=4096)  # a library has few folders and every frame of one asks: 300,000 splits cost a second
def export_folder(folder: str) -> str | None:
    """The export-style folder name in ``folder`` (``Exports``, ``Web`` ...), or None."""
    for part in re.split(r"[\\/]+", folder):
        if part.casefold() in EXPORT_FOLDERS:
            return part
    return None


def copy_marker(filename: str) -> str | None:
    """What makes ``filename`` look like a copy ("copy", "numbered copy", "edit", "resized"), or None when it
    looks like the camera's own name (or a name the photographer gave)."""
    stem = os.path.splitext(filename)[0].strip()
    if _CAMERA_NAME.fullmatch(stem):
        return None
    for pattern, what in _COPY_MARKERS:
        if pattern.search(stem):
            return what
    resized = _RESIZED.search(stem)
    if resized and resized.start() > 0 and int(resized.group(1)) in RESIZE_SIZES:
        return "resized"
    return None


@dataclass(frozen=True)
class Candidate:
    """What the keep rules look at for one frame."""

    photo_id: int
    path: str
    folder: str = ""
    filename: str = ""
    format: str | None = None
    width: int | None = None
    height: int | None = None
    rating: int = 0
    rank: int | None = None  # place in the score sort (0 is best); None: no value for the chosen key
    score: float | None = None  # the value shown in the reason, when there is one

    @cached_property  # the keep rules ask for these a few times per frame; they are regular expressions
    def raw(self) -> bool:
        return is_raw_file(self.format, self.filename or os.path.basename(self.path))

    @cached_property
    def copy_marks(self) -> int:
        """0 for the camera's own file; 1 for a copy's name or an export folder; 2 for both."""
        named = copy_marker(self.filename or os.path.basename(self.path)) is not None
        return int(named) + int(export_folder(self.folder or os.path.dirname(self.path)) is not None)

    @property
    def copy(self) -> bool:
        return self.copy_marks > 0

    @property
    def pixels(self) -> int:
        return (self.width or 0) * (self.height or 0)


RULES: tuple[str, ...] = ("raw", "original", "resolution", "rating", "score", "path")


def keep_key(candidate: Candidate) -> tuple[object, ...]:
    """Sort key, smaller is better; one element per rule in ``RULES``."""
    return (
        not candidate.raw,
        candidate.copy_marks,
        -candidate.pixels,
        -candidate.rating,
        candidate.rank if candidate.rank is not None else float("inf"),
        (candidate.path.casefold(), candidate.path, candidate.photo_id),
    )


def keep_order(candidates: Sequence[Candidate]) -> list[Candidate]:
    """The candidates best first."""
    return sorted(candidates, key=keep_key)


def deciding_rule(kept: Candidate, runner_up: Candidate) -> str:
    """The first rule in ``RULES`` that puts ``kept`` before ``runner_up``."""
    for rule, mine, theirs in zip(RULES, keep_key(kept), keep_key(runner_up), strict=True):
        if mine != theirs:
            return rule
    return "path"


def keep_reason(ordered: Sequence[Candidate], score_label: str = "score", *, lowest: bool = False) -> str:
    """Why ``ordered[0]`` is kept over the others (``ordered`` as ``keep_order`` returns it)."""
    if len(ordered) < 2:
        return "kept: the only frame"
    kept, runner_up = ordered[0], ordered[1]
    rule = deciding_rule(kept, runner_up)
    if rule == "raw":
        stem = os.path.splitext(kept.filename or os.path.basename(kept.path))[0].casefold()
        paired = any(
            not other.raw and os.path.splitext(other.filename or os.path.basename(other.path))[0].casefold() == stem
            for other in ordered[1:]
        )
        return "kept: the RAW of the RAW+JPEG pair" if paired else "kept: RAW original"
    if rule == "original":
        return "kept: the camera's original, not a copy" if not kept.copy else "kept: the camera's name, not a copy"
    if rule == "resolution":
        return f"kept: highest resolution ({kept.width}×{kept.height})"
    if rule == "rating":
        return f"kept: rated {kept.rating}★"
    if rule == "score":
        best = "lowest" if lowest else "best"
        value = f" {kept.score:.0f}" if kept.score is not None else ""
        return f"kept: {best} {score_label}{value}"
    return "kept: first by file name (the frames tie on every rule)"


def representative(ordered: Sequence[int], ratings: Sequence[int]) -> int:
    """The frame shown for a collapsed stack: the highest rated, and among equal ratings the keep rules' choice.

    ``ordered`` are ids best first, ``ratings`` their ratings in the same order."""
    if not ordered:
        raise ValueError("an empty stack has no representative")
    best = max(range(len(ordered)), key=lambda i: (ratings[i], -i))
    return ordered[best]
