"""Making the ~1600 px previews in the background, after indexing, so the loupe opens at once.

Previews live in the thumbnail cache (never next to the photos); the cache is pruned to its size budget after
new ones are made.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import STATUS_OK, Photo
from artimuse_desktop.catalog.root_locations import root_map
from artimuse_desktop.errors import DecodeError
from artimuse_desktop.imaging.thumbnails import PruneResult, ThumbnailCache
from artimuse_desktop.library.index_results import ProgressCallback, ProgressReporter
from artimuse_desktop.library.parallel import default_workers, run_parallel


@dataclass
class PreviewSummary:
    made: int = 0
    existing: int = 0
    failed: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    pruned: PruneResult | None = None  # the cache kept within its size budget after new previews


def _preview_rows(catalog: Catalog, photo_ids: Sequence[int] | None) -> list[tuple[int, str, str]]:
    """(id, path, fingerprint) of the ok, fingerprinted photos (all, or those of ``photo_ids``)."""
    stmt = select(Photo.id, Photo.path, Photo.fingerprint, Photo.orientation).where(
        Photo.status == STATUS_OK, Photo.fingerprint.is_not(None)
    )
    rows: list[tuple[int, str, str]] = []
    with catalog.read() as session:
        places = root_map(session)  # decode where this computer sees the files
        if photo_ids is None:
            rows = [(r.id, places.to_local(r.path), r.fingerprint) for r in session.execute(stmt)]
        else:
            ids = list(photo_ids)
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                found = session.execute(stmt.where(Photo.id.in_(chunk)))
                rows += [(r.id, places.to_local(r.path), r.fingerprint) for r in found]
    return rows


def make_previews(
    catalog: Catalog,
    cache: ThumbnailCache | None = None,
    photo_ids: Sequence[int] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    *,
    workers: int | None = None,
    max_pixels: int | None = None,
    made_by_index: int = 0,
) -> PreviewSummary:
    """Make the missing ~1600 px previews (of all ok photos, or of ``photo_ids``); for the background.

    ``made_by_index``: how many of those the index run before wrote from its own decode
    (``IndexSummary.previews``); they count as made, not as already there.
    """
    cache = cache or ThumbnailCache()
    summary = PreviewSummary()
    started = time.monotonic()
    report = ProgressReporter(progress, started)
    todo: list[tuple[int, str, str]] = []
    for row in _preview_rows(catalog, photo_ids):
        if cache.get(row[2], "preview") is not None:
            summary.existing += 1
        else:
            todo.append(row)
    moved = min(made_by_index, summary.existing)
    summary.existing -= moved
    summary.made += moved
    done = 0

    def one(row: tuple[int, str, str]) -> Path:
        return cache.ensure(row[1], row[2], "preview", max_pixels=max_pixels)

    def finished(row: tuple[int, str, str], _path: Path) -> None:
        nonlocal done
        done += 1
        summary.made += 1
        report("previews", done, len(todo), row[1], force=done == len(todo))

    def failed(row: tuple[int, str, str], exc: BaseException) -> None:
        nonlocal done
        done += 1
        summary.failed += 1
        reason = exc.reason if isinstance(exc, DecodeError) else str(exc)
        summary.failures.append((row[1], reason))

    completed = run_parallel(
        todo,
        one,
        workers=workers or default_workers(),
        executor="thread",
        cancel=cancel,
        on_result=finished,
        on_error=failed,
    )
    summary.cancelled = not completed
    if summary.made:
        summary.pruned = cache.prune()
    return summary
