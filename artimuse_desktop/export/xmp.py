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

Only what the photographer said here is written. ``write_sidecars`` writes a sidecar for a photo with a
decision made in this app (``made_here``: values imported from sidecars or read from the files do not count, nor
an undone change) or a score, unless ``everything``; never for a file that failed to index. Into each it
writes only the decisions made here and the score: a rating set in Lightroom stays when we only scored the
photo (``xmp_merge``).

Names are planned for whole folders first (``sidecar_names``): a RAW+JPEG pair shares ``IMG_0001.xmp``, which
belongs to the RAW (the JPEG is skipped); other photos that would share a name (``photo.heic``, ``photo.tif``;
``IMG_0001.JPG`` and ``img_0001.jpg``) get ``photo.heic.xmp`` and the result says so (``full_names``).

An existing sidecar is untrusted input and is first read and checked like any other (``library.sidecars``);
one that fails is reported (file and reason) and never overwritten. Writes are atomic: a temporary
``.IMG.xmp.<token>.tmp`` in the same folder, flushed, then renamed over the old one; the temporary file is
locked while it exists, and the next ``write_sidecars`` removes those a killed run left (``leftovers``).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import SOURCE_APP, STATUS_ERROR, STATUS_OK, Photo
from artimuse_desktop.catalog.queries import assessments_for, get_score_model, records_by_ids
from artimuse_desktop.catalog.records import AssessmentRecord, PhotoRecord
from artimuse_desktop.catalog.root_locations import root_map
from artimuse_desktop.catalog.shown_values import attribute_values
from artimuse_desktop.culling.decisions import fields_decided_here
from artimuse_desktop.export.leftovers import SIDECAR_TMP_PATTERN, mark_in_use, release, remove_leftovers
from artimuse_desktop.export.sidecar_names import STYLES, check_style, plan_sidecar_names, sidecar_path
from artimuse_desktop.export.xmp_merge import (
    ALL_FIELDS,
    ATTRIBUTE_PROPERTIES,
    FIELD_FLAG,
    FIELD_LABEL,
    FIELD_RATING,
    FIELD_SCORE,
    SidecarData,
    attribute_property,
    render_sidecar,
)
from artimuse_desktop.formatting import count_text
from artimuse_desktop.library.sidecar_import import import_sidecar_decisions
from artimuse_desktop.library.sidecars import (
    SidecarDecisions,
    SidecarError,
    SidecarProblem,
    read_sidecar,
    read_sidecar_bytes,
)

__all__ = [
    "ALL_FIELDS",
    "ATTRIBUTE_PROPERTIES",
    "STYLES",
    "SidecarData",
    "SidecarDecisions",
    "SidecarError",
    "SidecarProblem",
    "SidecarWriteResult",
    "attribute_property",
    "import_sidecar_decisions",
    "read_sidecar",
    "render_sidecar",
    "sidecar_data",
    "sidecar_path",
    "temporary_name",
    "write_sidecar",
    "write_sidecars",
]

log = logging.getLogger(__name__)

# Why a photo got no sidecar, grouped in the summary.
SKIP_NOTHING_SAID = "nothing decided here and no score"
SKIP_FAILED = "failed to index"
SKIP_PARTNER = "its RAW partner's sidecar"
SKIP_MISSING = "missing or in the trash"
SKIP_KEPT = "an existing sidecar, nothing to add"  # --all: a sidecar is there and nothing was said here
_SKIP_WORDS = {
    SKIP_NOTHING_SAID: "with nothing decided here and no score (--all writes them too)",
    SKIP_FAILED: "that failed to index",
    SKIP_PARTNER: "whose sidecar belongs to its RAW partner",
    SKIP_MISSING: "missing or in the trash",
    SKIP_KEPT: "whose sidecar is there already, with nothing decided here or scored to add",
}


@dataclass
class SidecarWriteResult:
    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (photo id, why)
    failed: list[SidecarProblem] = field(default_factory=list)
    leftovers_removed: list[Path] = field(default_factory=list)  # temporary files of an earlier, killed run
    full_names: list[tuple[Path, str]] = field(default_factory=list)  # (photo.heic.xmp, why not photo.xmp)
    skip_kinds: Counter[str] = field(default_factory=Counter)  # SKIP_* -> how many

    def skip(self, photo_id: int, kind: str, why: str) -> None:
        self.skipped.append((photo_id, why))
        self.skip_kinds[kind] += 1

    def summary_lines(self, style: str, *, dry_run: bool = False) -> list[str]:
        """What was done: counts, every sidecar given its full name and why, skipped photos by reason."""
        lines = []
        if self.leftovers_removed:
            files = count_text(len(self.leftovers_removed), "temporary sidecar file")
            lines.append(f"XMP: removed {files} left by an earlier, stopped run.")
        verb = "would write" if dry_run else "wrote"
        lines.append(
            f"XMP: {verb} {count_text(len(self.written), 'sidecar')} ({style} style); {len(self.failed):,} failed, "
            f"{len(self.skipped):,} skipped."
        )
        if self.full_names:
            lines.append(
                f"  {count_text(len(self.full_names), 'sidecar')} carry the whole file name (photo.heic.xmp), "
                "because their photos would share one:"
            )
            lines += [f"    {path} ({why})" for path, why in self.full_names]
        parts = [f"{count_text(n, 'photo')} {_SKIP_WORDS[kind]}" for kind, n in self.skip_kinds.items() if n]
        if parts:
            lines.append(f"  skipped: {'; '.join(parts)}.")
        return lines


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


def write_sidecar(photo: str | Path, data: SidecarData, style: str = "lightroom", *, path: Path | None = None) -> Path:
    """Create or merge the photo's sidecar (at ``path`` when planned, else ``sidecar_path``); returns its path.
    Raises SidecarError, leaving the file alone."""
    path = path or sidecar_path(photo, style)
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


def sidecar_data(
    record: PhotoRecord,
    assessments: Sequence[AssessmentRecord],
    score_model: str,
    *,
    decided: frozenset[str] | None = None,
) -> SidecarData:
    """Decisions from the record; score, model and attributes from the score model's assessment first.

    ``decided``: the decision fields made here; the data then writes only those, and the score when there is
    one. None writes every field (an exported copy is ours).
    """
    own = next((a for a in assessments if a.model == score_model), None)
    shown = [
        value
        for value in attribute_values(assessments, score_model).values()
        if value.score is not None and value.attribute in ATTRIBUTE_PROPERTIES
    ]
    attributes = {value.attribute: value.score for value in shown if value.score is not None}
    scored = record.score is not None or bool(attributes)
    fields = None if decided is None else decided | ({FIELD_SCORE} if scored else frozenset())
    return SidecarData(
        rating=record.rating,
        flag=record.flag,
        label=record.color_label,
        score=record.score,
        model=score_model if record.score is not None or own is not None else None,
        model_version=own.model_version if own is not None else None,
        attributes=attributes,
        experimental={value.attribute for value in shown if value.experimental},
        fields=fields,
    )


def made_here(record: PhotoRecord, logged: frozenset[str]) -> frozenset[str]:
    """The decision fields the photographer set in this app. A value read from a sidecar or the file (its
    ``*_source``) never counts; one set here counts while the undo log still holds it (``logged``: undone, it is
    back to what it was before); a set value with no source at all predates sources and counts as ours."""
    found = set()
    for name, value, unset, source in (
        (FIELD_FLAG, record.flag, 0, record.flag_source),
        (FIELD_RATING, record.rating, 0, record.rating_source),
        (FIELD_LABEL, record.color_label, None, record.label_source),
    ):
        if (source in (SOURCE_APP, None) and name in logged) or (source is None and value != unset):
            found.add(name)
    return frozenset(found)


def _claimants(session: Session, folders: set[str]) -> list[Path]:
    """Every photo the catalog knows in these folders: they all claim sidecar names (``sidecar_names``)."""
    found: list[Path] = []
    places = root_map(session)  # the folders are this computer's, the catalog's paths the roots' own
    ordered = sorted({places.to_stored(folder) for folder in folders})
    for start in range(0, len(ordered), 900):
        stmt = select(Photo.path).where(
            Photo.folder.in_(ordered[start : start + 900]), Photo.status.in_([STATUS_OK, STATUS_ERROR])
        )
        found += [Path(places.to_local(path)) for (path,) in session.execute(stmt)]
    return found


def _jobs(
    catalog: Catalog, photo_ids: Sequence[int], style: str, everything: bool, result: SidecarWriteResult
) -> list[tuple[int, Path, Path, SidecarData]]:
    """(photo id, photo, sidecar, data) for each photo that gets a sidecar; the others go to ``result``."""
    chosen: list[tuple[PhotoRecord, SidecarData]] = []
    with catalog.read() as session:
        model = get_score_model(session)
        records = records_by_ids(session, list(dict.fromkeys(photo_ids)), score_model=model)
        logged = fields_decided_here(session, [r.id for r in records if r.status == STATUS_OK])
        for record in records:
            if record.status == STATUS_ERROR:
                result.skip(record.id, SKIP_FAILED, f"it failed to index ({record.error or 'unreadable'})")
                continue
            if record.status != STATUS_OK:
                result.skip(record.id, SKIP_MISSING, f"the photo is {record.status}")
                continue
            here = made_here(record, logged.get(record.id, frozenset()))
            data = sidecar_data(record, assessments_for(session, record.id), model, decided=here)
            if not data.fields and not everything:
                result.skip(record.id, SKIP_NOTHING_SAID, "nothing was decided here and it has no score")
                continue
            chosen.append((record, data))
        claimants = _claimants(session, {record.folder for record, _data in chosen})
    names = plan_sidecar_names([Path(record.path) for record, _data in chosen], claimants, style)
    jobs: list[tuple[int, Path, Path, SidecarData]] = []
    for record, data in chosen:
        planned = names[Path(record.path)]
        if planned.path is None:
            owner = planned.owner.stem if planned.owner is not None else planned.photo.stem
            result.skip(record.id, SKIP_PARTNER, f"{owner}.xmp belongs to its RAW partner")
            continue
        jobs.append((record.id, planned.photo, planned.path, data))
        if planned.why_full_name:
            result.full_names.append((planned.path, planned.why_full_name))
    return jobs


def write_sidecars(
    catalog: Catalog,
    photo_ids: Sequence[int],
    style: str = "lightroom",
    *,
    dry_run: bool = False,
    everything: bool = False,
) -> SidecarWriteResult:
    """Write (merge) sidecars for the photos with a decision made here or a score (every readable photo when
    ``everything``); one bad file never stops the rest. Safe to call after each decision from the GUI."""
    check_style(style)
    result = SidecarWriteResult()
    jobs = _jobs(catalog, photo_ids, style, everything, result)
    if not dry_run:
        result.leftovers_removed = remove_leftovers([photo.parent for _i, photo, _s, _d in jobs], SIDECAR_TMP_PATTERN)
    for photo_id, photo, sidecar, data in jobs:
        if not os.path.exists(photo):
            result.skip(photo_id, SKIP_MISSING, "the photo file is missing")
            continue
        if data.fields is not None and not data.fields and os.path.lexists(sidecar):
            result.skip(photo_id, SKIP_KEPT, f"{sidecar.name} is there and nothing was decided here or scored")
            continue  # not even a new MetadataDate: Lightroom would think its metadata changed
        if dry_run:
            result.written.append(sidecar)
            continue
        try:
            result.written.append(write_sidecar(photo, data, style, path=sidecar))
        except SidecarError as exc:
            log.info("%s", exc.message)  # the caller reports each failure once
            result.failed.append(SidecarProblem(exc.path, exc.reason, photo_id))
    written = set(result.written)
    result.full_names = [(path, why) for path, why in result.full_names if path in written]
    return result
