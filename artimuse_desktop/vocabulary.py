"""The app's shared words, on the ground floor so every package can use them without importing another.

* The eight ArtiMuse attributes and their loose-name lookup.
* Flags (pick / reject / none) as one enum, with the words every surface shows or parses.
* Colour labels as one table: the catalog value, Lightroom's, darktable's and digiKam's names, the key that sets
  it, and the colour it is drawn in (GUI, HTML contact sheet).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

ATTRIBUTES: tuple[str, ...] = (
    "Composition & Design",
    "Visual Elements & Structure",
    "Technical Execution",
    "Originality & Creativity",
    "Theme & Communication",
    "Emotion & Viewer Response",
    "Overall Gestalt",
    "Comprehensive Evaluation",
)


def canonical_attribute(name: str) -> str:
    """Map a loosely typed attribute name ("composition", "technical execution") to its exact name."""
    wanted = _squash(name)
    for attribute in ATTRIBUTES:
        squashed = _squash(attribute)
        if squashed == wanted or squashed.startswith(wanted):
            return attribute
    raise ValueError(f"unknown attribute {name!r}; known: {', '.join(ATTRIBUTES)}")


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


class Flag(IntEnum):
    """A photo's flag as stored in the catalog (Lightroom's pick / reject, XMP Rating -1 for rejects)."""

    REJECT = -1
    NONE = 0
    PICK = 1

    @property
    def word(self) -> str:
        """The lower-case word used in reports, XMP ``artimuse:Flag`` and the command line."""
        return {Flag.PICK: "pick", Flag.REJECT: "reject", Flag.NONE: "none"}[self]

    @property
    def past(self) -> str:
        """What the status bar says after setting it: "Picked 3 photos"."""
        return {Flag.PICK: "Picked", Flag.REJECT: "Rejected", Flag.NONE: "Unflagged"}[self]

    @property
    def menu_text(self) -> str:
        return {Flag.PICK: "Pick", Flag.REJECT: "Reject", Flag.NONE: "Unflag"}[self]


FLAG_PICK = Flag.PICK
FLAG_REJECT = Flag.REJECT
FLAG_NONE = Flag.NONE

#: Every word the command line and filter expressions accept for a flag.
FLAG_WORDS: dict[str, Flag] = {
    "pick": Flag.PICK,
    "picked": Flag.PICK,
    "picks": Flag.PICK,
    "reject": Flag.REJECT,
    "rejected": Flag.REJECT,
    "rejects": Flag.REJECT,
    "none": Flag.NONE,
    "unflagged": Flag.NONE,
    "0": Flag.NONE,
    "1": Flag.PICK,
    "-1": Flag.REJECT,
}


def flag_word(value: int | None) -> str:
    """ "pick", "reject" or "none" for a stored flag (unknown values read as none)."""
    try:
        return Flag(value or 0).word
    except ValueError:
        return Flag.NONE.word


@dataclass(frozen=True)
class ColorLabel:
    """One colour label in every dialect we read or write."""

    name: str  # the catalog value
    lightroom: str  # xmp:Label
    digikam: int  # digiKam:ColorLabel
    key: str | None  # the culling key that toggles it (Lightroom's 6–9), None: menu only
    color: str  # how it is drawn: grid badge, filter bar, HTML contact sheet


LABELS: tuple[ColorLabel, ...] = (
    ColorLabel("red", "Red", 1, "6", "#d9453b"),
    ColorLabel("yellow", "Yellow", 3, "7", "#e3c13b"),
    ColorLabel("green", "Green", 4, "8", "#4caf50"),
    ColorLabel("blue", "Blue", 5, "9", "#3d7fd9"),
    ColorLabel("purple", "Purple", 6, None, "#9c5ad1"),
)
#: Catalog values, in darktable's index order (its ``colorlabels`` sequence holds the index).
COLOR_LABELS: tuple[str, ...] = tuple(label.name for label in LABELS)
LABELS_BY_NAME: dict[str, ColorLabel] = {label.name: label for label in LABELS}
#: Other apps' words read as one of ours.
LABEL_ALIASES: dict[str, str] = {"magenta": "purple", "violet": "purple"}
