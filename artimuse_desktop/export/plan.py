"""An export plan: every file that will be written, decided before a single byte is copied.

Planning first means a dry run shows exactly what would happen, names are allocated once for a whole group and
never collide, and the copier only executes. A group is a photo plus what must travel with it:

* its RAW+JPEG partner (same stem, same folder, one RAW and one rendered format such as JPEG or HEIC);
* existing sidecars: ``IMG_0001.xmp`` (Lightroom, Capture One, Photo Mechanic), ``IMG_0001.CR2.xmp``
  (darktable, digiKam) for each file of the group, and Apple's ``IMG_0001.AAE``.

Every file of a group gets the same destination stem, so ``IMG_0001.CR2.xmp`` renamed by a template becomes
``001_IMG_0001.CR2.xmp`` beside ``001_IMG_0001.CR2``. A partner that is itself selected is exported once, with
the better-ranked photo.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from sqlalchemy import select

from artimuse_desktop.catalog.models import STATUS_MISSING, STATUS_TRASHED, LibraryRoot
from artimuse_desktop.catalog.root_locations import root_map
from artimuse_desktop.export.identical import same_photo
from artimuse_desktop.export.naming import (
    DEFAULT_TEMPLATE,
    NameAllocator,
    NameFields,
    TemplateError,
    camera_name,
    render_relative,
    validate_template,
)
from artimuse_desktop.export.selection import RankedPhoto

if TYPE_CHECKING:
    from artimuse_desktop.catalog import Catalog

MODES = ("copy", "hardlink", "symlink")
RAW_EXTENSIONS = frozenset(
    [
        ".3fr",
        ".ari",
        ".arw",
        ".bay",
        ".cr2",
        ".cr3",
        ".crw",
        ".dcr",
        ".dng",
        ".erf",
        ".fff",
        ".gpr",
        ".iiq",
        ".k25",
        ".kdc",
        ".mef",
        ".mos",
        ".mrw",
        ".nef",
        ".nrw",
        ".orf",
        ".pef",
        ".raf",
        ".raw",
        ".rw2",
        ".rwl",
        ".sr2",
        ".srf",
        ".srw",
        ".x3f",
    ]
)
RENDERED_EXTENSIONS = frozenset([".jpg", ".jpeg", ".jpe", ".heic", ".heif", ".hif"])
SIDECAR_EXTENSIONS = frozenset((".xmp",))
STEM_SIDECAR_EXTENSIONS = frozenset((".xmp", ".aae"))

ROLE_PHOTO = "photo"
ROLE_PAIR = "pair"  # the RAW or JPEG partner
ROLE_SIDECAR = "sidecar"


@dataclass(frozen=True)
class PlannedFile:
    """One file to write: where it comes from, where it goes, and why it is part of the group."""

    source: Path
    destination: Path
    role: str
    size: int = 0


@dataclass(frozen=True)
class PlanItem:
    """A photo and its companions, exported (or not) together."""

    photo: RankedPhoto
    source: Path
    destination: Path
    size: int
    companions: tuple[PlannedFile, ...] = ()
    already_there: bool = False  # an earlier export put these very files in DEST: nothing to copy again

    @property
    def files(self) -> tuple[PlannedFile, ...]:
        return (PlannedFile(self.source, self.destination, ROLE_PHOTO, self.size), *self.companions)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class SkippedPhoto:
    photo: RankedPhoto
    reason: str


@dataclass
class ExportPlan:
    """What an export will do; ``describe()`` is the dry run."""

    dest: Path
    mode: str
    template: str
    items: list[PlanItem] = field(default_factory=list)
    skipped: list[SkippedPhoto] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(item.total_bytes for item in self.items)

    @property
    def file_count(self) -> int:
        return sum(len(item.files) for item in self.items)

    def describe(self) -> Iterator[str]:
        """Human-readable lines: one per file that would be written, then what is skipped and why."""
        verb = {"copy": "copy", "hardlink": "link", "symlink": "symlink"}[self.mode]
        for item in self.items:
            for planned in item.files:
                indent = "" if planned.role == ROLE_PHOTO else "    + "
                relative = planned.destination.relative_to(self.dest)
                yield f"{indent}{verb} {planned.source} -> {relative}"
        for skipped in self.skipped:
            yield f"skip {skipped.photo.record.path}: {skipped.reason}"


class _FolderIndex:
    """Directory listings, read once per source folder, keyed case-insensitively."""

    def __init__(self) -> None:
        self._cache: dict[str, dict[str, list[str]]] = {}

    def names(self, folder: str) -> dict[str, list[str]]:
        if folder not in self._cache:
            by_key: dict[str, list[str]] = {}
            try:
                with os.scandir(folder) as entries:
                    for entry in entries:
                        try:
                            if entry.is_file():
                                by_key.setdefault(entry.name.casefold(), []).append(entry.name)
                        except OSError:
                            continue
            except OSError:
                pass
            for names in by_key.values():
                names.sort()
            self._cache[folder] = by_key
        return self._cache[folder]

    def find(self, folder: str, name: str) -> list[str]:
        return self.names(folder).get(name.casefold(), [])


def _split(name: str) -> tuple[str, str]:
    """(stem, suffix) with pathlib's rules, so ``..jpg`` is ``.`` + ``.jpg`` here as in ``Path.suffix``."""
    suffix = PurePosixPath(name).suffix
    return (name[: len(name) - len(suffix)], suffix) if suffix else (name, "")


def find_pair(path: Path, index: _FolderIndex | None = None) -> list[Path]:
    """The RAW partner of a JPEG/HEIC, or the JPEG/HEIC partner of a RAW, when one lies beside it."""
    index = index or _FolderIndex()
    folder, name = str(path.parent), path.name
    stem, ext = _split(name)
    wanted = RENDERED_EXTENSIONS if ext.lower() in RAW_EXTENSIONS else RAW_EXTENSIONS
    if ext.lower() not in RAW_EXTENSIONS | RENDERED_EXTENSIONS:
        return []
    found: list[Path] = []
    stem_key = stem.casefold()
    for names in index.names(folder).values():
        for candidate in names:
            c_stem, c_ext = _split(candidate)
            if c_stem.casefold() == stem_key and c_ext.lower() in wanted and candidate != name:
                found.append(path.parent / candidate)
    return sorted(found)


def find_sidecars(files: Sequence[Path], index: _FolderIndex | None = None) -> list[tuple[Path, str]]:
    """Existing sidecars of a group as (path, suffix after the group's stem): ``(.../A.CR2.xmp, ".CR2.xmp")``.

    ``files`` share one folder and stem (a photo and its partner)."""
    if not files:
        return []
    index = index or _FolderIndex()
    folder = str(files[0].parent)
    stem = _split(files[0].name)[0]
    found: list[tuple[Path, str]] = []
    for ext in sorted(STEM_SIDECAR_EXTENSIONS):
        for name in index.find(folder, stem + ext):
            found.append((files[0].parent / name, name[len(stem) :]))
    for member in files:
        for ext in sorted(SIDECAR_EXTENSIONS):
            for name in index.find(folder, member.name + ext):
                found.append((files[0].parent / name, member.suffix + name[len(member.name) :]))
    return found


def name_fields(photo: RankedPhoto, seq: int, total: int) -> NameFields:
    record = photo.record
    stem, ext = _split(record.filename or os.path.basename(record.path))
    return NameFields(
        original=stem,
        ext=ext.lstrip("."),
        captured_at=record.captured_at,
        camera=camera_name(record.camera_make, record.camera_model),
        lens=record.lens,
        score=record.score,
        rank=photo.rank,
        seq=seq,
        total=total,
        label=record.color_label,
        rating=record.rating,
        flag=record.flag,
    )


def _size(path: Path) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def build_plan(
    photos: Sequence[RankedPhoto],
    dest: str | Path,
    *,
    template: str = DEFAULT_TEMPLATE,
    mode: str = "copy",
    companions: bool = True,
    sidecars: bool = True,
    suffix_style: str = "paren",
) -> ExportPlan:
    """Plan an export of ``photos`` (in rank order) into ``dest``; reads the disk, writes nothing.

    Raises TemplateError for a bad template and ValueError for an unknown mode."""
    if mode not in MODES:
        raise ValueError(f"unknown export mode {mode!r}; use {', '.join(MODES)}")
    validate_template(template)
    dest_path = Path(os.path.abspath(os.path.expanduser(str(dest))))
    plan = ExportPlan(dest_path, mode, template)
    allocator = NameAllocator(dest_path, suffix_style)
    index = _FolderIndex()
    # {seq}: numbers in capture-time order, so a slideshow sorted by name plays chronologically.
    chronological = sorted(
        photos,
        key=lambda p: (p.record.captured_at or datetime.max, p.record.filename.casefold(), p.record.id),
    )
    seq_of = {p.record.id: n for n, p in enumerate(chronological, start=1)}
    total = len(photos)
    planned_sources: dict[str, str] = {}  # source path -> the photo that takes it

    for photo in photos:
        record = photo.record
        source = Path(record.path)
        if record.status in (STATUS_TRASHED, STATUS_MISSING):
            plan.skipped.append(SkippedPhoto(photo, f"the photo is {record.status}"))
            continue
        if str(source) in planned_sources:
            plan.skipped.append(SkippedPhoto(photo, f"exported with its partner {planned_sources[str(source)]}"))
            continue
        size = _size(source)
        if size is None or not source.is_file():
            plan.skipped.append(SkippedPhoto(photo, "the file is missing or unreadable"))
            continue
        group: list[tuple[Path, str, str]] = []  # (source, suffix after the stem, role)
        members = [source]
        if companions:
            for partner in find_pair(source, index):
                if str(partner) not in planned_sources:
                    members.append(partner)
                    group.append((partner, partner.suffix, ROLE_PAIR))
        if sidecars:
            for sidecar, suffix in find_sidecars(members, index):
                if str(sidecar) not in planned_sources:
                    group.append((sidecar, suffix, ROLE_SIDECAR))
        # One file per suffix (a case-sensitive folder may hold both IMG.xmp and IMG.XMP): keep the first.
        seen = {source.suffix.casefold()}
        unique: list[tuple[Path, str, str]] = []
        for entry in group:
            if entry[1].casefold() not in seen:
                seen.add(entry[1].casefold())
                unique.append(entry)
        sources = [source, *(path for path, _, _ in unique)]
        suffixes = [source.suffix, *(suffix for _, suffix, _ in unique)]

        def holds_this_group(paths: list[PurePosixPath], sources: list[Path] = sources) -> bool:
            return all(same_photo(dest_path / p, s) for p, s in zip(paths, sources, strict=True))

        try:
            stem = render_relative(template, name_fields(photo, seq_of[record.id], total))
            found = allocator.find_existing(stem, suffixes, holds_this_group) if mode == "copy" else None
            chosen = found if found is not None else allocator.allocate(stem, suffixes)
        except TemplateError as exc:
            plan.skipped.append(SkippedPhoto(photo, str(exc)))
            continue
        destination = dest_path / _with(chosen, source.suffix)
        planned_companions = tuple(
            PlannedFile(path, dest_path / _with(chosen, suffix), role, _size(path) or 0)
            for path, suffix, role in unique
        )
        item = PlanItem(photo, source, destination, size, planned_companions, already_there=found is not None)
        plan.items.append(item)
        for planned in item.files:
            planned_sources[str(planned.source)] = source.name
    return plan


def _with(stem: PurePosixPath, suffix: str) -> str:
    return str(stem.with_name(stem.name + suffix))


def indexed_roots(catalog: Catalog) -> list[str]:
    """The library folders the catalog indexes (what ``index`` scans again), as this computer sees them."""
    with catalog.read() as session:
        places = root_map(session)
        return [places.to_local(str(path)) for path in session.execute(select(LibraryRoot.path)).scalars()]


def library_root_holding(plan: ExportPlan, roots: Iterable[str]) -> str | None:
    """The indexed library folder that the export folder (or a sub-folder a template makes) lies in, if any.

    Copies written there would be found by the next ``index`` and catalogued as duplicates of their originals.
    Compared after resolving symbolic links, so a link into the library counts as inside it."""
    folders = {Path(os.path.realpath(plan.dest))}
    folders.update(Path(os.path.realpath(f.destination.parent)) for item in plan.items for f in item.files)
    for root in sorted(roots, key=len, reverse=True):
        real_root = Path(os.path.realpath(root))
        if any(folder.is_relative_to(real_root) for folder in folders):
            return root
    return None
