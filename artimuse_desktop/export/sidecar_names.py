"""Which sidecar file each photo gets, decided for a whole folder before anything is written.

Styles: ``IMG_0001.xmp`` ("lightroom": Lightroom, Capture One, Photo Mechanic) or ``IMG_0001.CR2.xmp``
("darktable": darktable, digiKam). In the Lightroom style several photos can claim one name: ``photo.avif``,
``photo.heic`` and ``photo.tif`` all want ``photo.xmp``, and so do ``IMG_0001.JPG`` and ``img_0001.jpg``
(Lightroom matches names without regard to case, and so do the file systems of macOS and Windows). Rules:

* a RAW+JPEG pair (one RAW, with its rendered partners: ``plan.find_pair``) shares the stem name, which belongs
  to the RAW: the JPEG/HEIC partner is skipped, as Lightroom does;
* every other claimant of a taken name uses the full-name form, ``photo.heic.xmp``, and says why.

The claimants are every photo the catalog knows in the folder (not only those written now), so a photo's
sidecar name does not change with the selection. An existing sidecar whose name differs only in case
(``IMG_0001.XMP``) is reused unless that name is exactly another claimant's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from artimuse_desktop.export.naming import names_by_casefold
from artimuse_desktop.export.plan import RAW_EXTENSIONS, RENDERED_EXTENSIONS

STYLES = ("lightroom", "darktable")
_STEM, _FULL, _PARTNER = "stem", "full", "partner"


def check_style(style: str) -> None:
    if style not in STYLES:
        raise ValueError(f"unknown sidecar style {style!r}; use {', '.join(STYLES)}")


@dataclass(frozen=True)
class SidecarName:
    """Where one photo's sidecar goes; ``path`` is None when the shared one belongs to its RAW partner."""

    photo: Path
    path: Path | None
    why_full_name: str | None = None  # "photo.heic and photo.tif would share photo.xmp": the full name is used
    owner: Path | None = None  # the RAW partner owning the shared sidecar, when ``path`` is None


def _reuse_case_variant(folder: Path, wanted: str, listing: dict[str, list[str]], shared: bool = False) -> Path:
    """``wanted``, or an existing name differing only in case when no other claimant wants that name in any case
    (``shared``): ``IMG_0001.JPG`` reuses Capture One's ``IMG_0001.XMP``, but never another photo's sidecar."""
    existing = listing.get(wanted.casefold(), [])
    if shared or wanted in existing or not existing:
        return folder / wanted
    return folder / sorted(existing)[0]


def sidecar_path(photo: str | Path, style: str = "lightroom") -> Path:
    """Where a photo's sidecar lives in this style, alone in its folder (reusing a name differing in case)."""
    check_style(style)
    path = Path(photo)
    wanted = (path.stem if style == "lightroom" else path.name) + ".xmp"
    return _reuse_case_variant(path.parent, wanted, names_by_casefold(path.parent))


def _stem_key(path: Path) -> str:
    return path.stem.casefold()


def _name(photo: Path, form: str) -> str:
    return (photo.stem if form == _STEM else photo.name) + ".xmp"


class _Folder:
    """The claimants of one folder and the form of each one's sidecar name."""

    def __init__(self, members: list[Path], style: str) -> None:
        self.by_stem: dict[str, list[Path]] = {}
        for photo in members:
            self.by_stem.setdefault(_stem_key(photo), []).append(photo)
        self.forms: dict[Path, str] = {}
        if style == "darktable":  # every photo its own full name: nothing to share
            self.forms = dict.fromkeys(members, _FULL)
            return
        for group in self.by_stem.values():
            raws = [p for p in group if p.suffix.lower() in RAW_EXTENSIONS]
            for photo in group:
                if len(group) == 1 or (len(raws) == 1 and photo == raws[0]):
                    self.forms[photo] = _STEM
                elif len(raws) == 1 and photo.suffix.lower() in RENDERED_EXTENSIONS:
                    self.forms[photo] = _PARTNER
                else:
                    self.forms[photo] = _FULL
        while self._settle():
            pass

    def owner(self, photo: Path) -> Path | None:
        """The RAW whose stem sidecar a partner shares."""
        return next((p for p in self.by_stem[_stem_key(photo)] if p.suffix.lower() in RAW_EXTENSIONS), None)

    def names(self) -> dict[Path, str]:
        return {photo: _name(photo, form) for photo, form in self.forms.items() if form != _PARTNER}

    def _settle(self) -> bool:
        """One pass: a full name can equal another photo's stem name (``a.jpg`` → ``a.jpg.xmp``, and so does
        ``a.jpg.png``); that stem claimant moves to its full name too. True when something moved."""
        changed = False
        wanted: dict[str, list[Path]] = {}
        for photo, name in self.names().items():
            wanted.setdefault(name.casefold(), []).append(photo)
        for photos in wanted.values():
            if len(photos) > 1:
                for photo in photos:
                    if self.forms[photo] == _STEM:
                        self.forms[photo] = _FULL
                        changed = True
        for photo, form in self.forms.items():
            if form == _PARTNER:
                owner = self.owner(photo)
                if owner is None or self.forms[owner] != _STEM:
                    self.forms[photo] = _FULL  # its RAW lost the shared name: the partner gets its own
                    changed = True
        return changed

    def why_full(self, photo: Path, names: dict[Path, str]) -> str:
        same = sorted((p.name for p in self.by_stem[_stem_key(photo)]), key=str.casefold)
        if len(same) > 1:
            return f"{', '.join(same[:-1])} and {same[-1]} would share {photo.stem}.xmp"
        stem_name = (photo.stem + ".xmp").casefold()
        other = next((p for p, n in names.items() if p != photo and n.casefold() == stem_name), None)
        return f"{photo.stem}.xmp is the sidecar of {other.name}" if other is not None else ""


def plan_sidecar_names(
    photos: Iterable[Path], claimants: Iterable[Path], style: str = "lightroom"
) -> dict[Path, SidecarName]:
    """The sidecar of each of ``photos``, given every photo of their folders (``claimants``, which may include
    them). One folder listing per folder."""
    check_style(style)
    wanted = list(dict.fromkeys(Path(p) for p in photos))
    by_folder: dict[Path, dict[Path, None]] = {}
    for photo in [*wanted, *(Path(p) for p in claimants)]:
        by_folder.setdefault(photo.parent, {})[photo] = None
    wanted_by_folder: dict[Path, list[Path]] = {}
    for photo in wanted:
        wanted_by_folder.setdefault(photo.parent, []).append(photo)
    plans: dict[Path, SidecarName] = {}
    for folder, mine in wanted_by_folder.items():
        listing = names_by_casefold(folder)
        state = _Folder(list(by_folder[folder]), style)
        names = state.names()
        counts = Counter(name.casefold() for name in names.values())
        for photo in mine:
            form = state.forms[photo]
            if form == _PARTNER:
                plans[photo] = SidecarName(photo, None, owner=state.owner(photo))
                continue
            name = names[photo]
            path = _reuse_case_variant(folder, name, listing, shared=counts[name.casefold()] > 1)
            why = state.why_full(photo, names) if form == _FULL and style == "lightroom" else None
            plans[photo] = SidecarName(photo, path, why)
    return {photo: plans[photo] for photo in wanted}
