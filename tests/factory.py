"""Real catalog rows for the tests and the demo library: one way to make them, shared by every test folder.

Photo rows carry what the indexer would write for a path (read from the file when it exists). Assessments go
through ``scoring.store.save_results``, the code the scoring pipeline uses, so a test sees the rows, the
``current`` flags and the trigger-kept ``photos.score`` exactly as a real run leaves them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import insert

from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.catalog.models import STATUS_OK, Photo
from artimuse_desktop.scoring.store import save_results
from artimuse_desktop.scoring.types import AttributeResult, Measure, PhotoInput, ScoreResult

#: An old, fixed modification time: a check that an export keeps mtimes cannot pass by accident.
OLD_MTIME_NS = 1_600_000_000_123_456_789
#: The shooting time of the first photo ``add_photos`` makes.
SHOOT_START = datetime(2024, 5, 1, 10, 0, 0)

Attributes = Mapping[str, tuple[float | None, str | None]]


# --------------------------------------------------------------------------------------------- files


def write_jpeg(
    path: Path, seed: int = 0, *, color: tuple[int, int, int] | None = None, size: tuple[int, int] = (96, 64)
) -> Path:
    """A small JPEG with lighter stripes (not a flat file), coloured ``color`` or by ``seed``; mtime old and fixed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    base = color or ((seed * 53) % 256, (seed * 97) % 256, (seed * 31) % 256)
    image = Image.new("RGB", size, base)
    light = (min(255, base[0] + 40), min(255, base[1] + 40), min(255, base[2] + 40))
    for x in range(0, size[0], 8):
        image.paste(light, (x, 0, x + 3, size[1]))
    image.save(path, "JPEG", quality=85)
    os.utime(path, ns=(OLD_MTIME_NS + seed, OLD_MTIME_NS + seed))
    return path


# --------------------------------------------------------------------------------------------- photos


def path_fingerprint(path: str) -> str:
    """A fingerprint unique to the path: no two test photos share cached thumbnails by accident."""
    return hashlib.blake2b(path.encode(), digest_size=16).hexdigest()


def _pixel_size(path: str) -> tuple[int | None, int | None]:
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError):  # not an image Pillow reads: the indexer would leave the size empty too
        return None, None


def photo_row(path: str | Path, **fields: Any) -> dict[str, Any]:
    """The columns the indexer fills for ``path`` (size, mtime and pixel size from the file when it exists),
    status ok and no decisions; ``fields`` override or add any column of ``Photo``."""
    text = str(path)
    stat = os.stat(text) if os.path.exists(text) else None
    width, height = _pixel_size(text) if stat else (None, None)
    row: dict[str, Any] = {
        "path": text,
        "folder": os.path.dirname(text),
        "filename": os.path.basename(text),
        "size": stat.st_size if stat else 0,
        "mtime": stat.st_mtime if stat else 0.0,
        "fingerprint": path_fingerprint(text),
        "format": os.path.splitext(text)[1].lstrip(".").upper() or None,
        "width": width,
        "height": height,
        "status": STATUS_OK,
        "flag": 0,
        "rating": 0,
    }
    row.update(fields)
    return row


def insert_photos(catalog: Catalog, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Photo rows in one transaction (bulk, as the indexer writes a batch); ids in the order of ``rows``."""
    if not rows:
        return []
    with catalog.write() as session:
        result = session.execute(insert(Photo).returning(Photo.id, sort_by_parameter_order=True), list(rows))
        return [photo_id for (photo_id,) in result]


def add_photo(catalog: Catalog, path: str | Path, **fields: Any) -> int:
    """One photo row for ``path`` (a file on disk or not); returns its id."""
    return insert_photos(catalog, [photo_row(path, **fields)])[0]


@dataclass(frozen=True)
class PhotoSpec:
    """One photo of a small shoot: a JPEG written under ``root/folder`` and its row with camera metadata."""

    name: str
    folder: str = "shoot"
    flag: int = 0
    rating: int = 0
    color_label: str | None = None
    seconds: float = 0.0  # capture time after SHOOT_START; 0: ten minutes per photo
    phash: str | None = None
    camera: str = "X-T5"
    color: tuple[int, int, int] = (120, 130, 140)


def add_photos(catalog: Catalog, root: Path, specs: Sequence[PhotoSpec]) -> list[int]:
    """Real JPEGs on disk plus their rows, as the indexer would write them; ids in the order of ``specs``."""
    rows = []
    for index, spec in enumerate(specs):
        path = write_jpeg(root / spec.folder / spec.name, color=spec.color)
        rows.append(
            photo_row(
                path,
                orientation=1,
                captured_at=SHOOT_START + timedelta(seconds=spec.seconds or index * 600),
                camera_make="Fujifilm",
                camera_model=spec.camera,
                lens="XF23mmF2",
                focal_length=23.0,
                aperture=2.0,
                shutter=1 / 250,
                iso=400,
                phash=spec.phash,
                flag=spec.flag,
                rating=spec.rating,
                color_label=spec.color_label,
            )
        )
    return insert_photos(catalog, rows)


# --------------------------------------------------------------------------------------------- assessments


def save_scores(
    catalog: Catalog,
    model: str,
    results: Mapping[int, ScoreResult],
    *,
    version: str = "1.0",
    content: Mapping[int, str] | None = None,
) -> None:
    """Store ``{photo id: result}`` as one scoring batch of ``model`` would, through the scoring store.

    ``content`` is the fingerprint each assessment was made for. Without it the column stays empty, as in
    catalogs from before fingerprints: the assessment counts for display, and a scoring run still picks the
    photo up (it cannot know the score describes the current pixels).
    """
    content = content or {}
    items = [PhotoInput(photo_id=pid, path="", fingerprint=content.get(pid)) for pid in results]  # type: ignore[arg-type]
    with catalog.write() as session:
        save_results(session, model, version, items, list(results.values()))


def score_result(
    score: float | None,
    attributes: Attributes | None = None,
    *,
    experimental: Collection[str] = (),
    measures: Mapping[str, float] | Sequence[Measure] = (),
) -> ScoreResult:
    """A backend's answer: attributes as ``{name: (score, critique)}``; measures as ``{name: value}`` (no unit,
    higher is better) or full ``Measure`` objects."""
    if isinstance(measures, Mapping):
        measures = [Measure(name, value, "", True) for name, value in measures.items()]
    return ScoreResult(
        score=score,
        attributes=[
            AttributeResult(name, value, critique, name in experimental)
            for name, (value, critique) in (attributes or {}).items()
        ],
        measures=list(measures),
    )


def add_assessment(
    catalog: Catalog,
    photo_id: int,
    model: str = "technical",
    score: float | None = 50.0,
    *,
    attributes: Attributes | None = None,
    experimental: Collection[str] = (),
    measures: Mapping[str, float] | Sequence[Measure] = (),
    version: str = "1.0",
    content: str | None = None,
) -> None:
    """One photo's assessment by ``model`` (see ``score_result`` and ``save_scores``)."""
    result = score_result(score, attributes, experimental=experimental, measures=measures)
    save_scores(catalog, model, {photo_id: result}, version=version, content={photo_id: content} if content else None)


def set_score_model(catalog: Catalog, model: str) -> None:
    """Make ``model`` the one that drives "Score" in this catalog."""
    with catalog.write() as session:
        queries.set_score_model(session, model)
