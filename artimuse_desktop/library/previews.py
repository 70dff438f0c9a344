"""Making the ~1600 px previews in the background, after indexing, so the loupe opens at once.

Previews live in the thumbnail cache (never next to the photos); the cache is pruned to its size budget after
new ones are made. After ``index`` (``previews_after_index``) only the photos that run touched are looked at,
plus every photo of the roots that may hold some without a preview (``preview_backlog``) or of all the folders
with ``--full``: an index that adds one photo to a 50,000-photo library looks up one preview, not 50,000.

Catalog reads are raw SQL (``catalog.dbapi``): a short run never imports SQLAlchemy.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog.constants import STATUS_OK
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.root_locations import read_root_map_raw
from artimuse_desktop.errors import DecodeError
from artimuse_desktop.imaging.thumbnails import PruneResult, ThumbnailCache
from artimuse_desktop.library.index_results import IndexSummary, ProgressCallback, ProgressReporter
from artimuse_desktop.library.index_rows import is_under, root_id_for, under_bounds
from artimuse_desktop.library.parallel import default_workers, run_parallel
from artimuse_desktop.library.preview_backlog import note_backlog, pending_backlog, settle_backlog


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
    sql = "SELECT id, path, fingerprint FROM photos WHERE status = :ok AND fingerprint IS NOT NULL"
    rows: list[tuple[int, str, str]] = []
    with catalog.raw_read() as connection:
        places = read_root_map_raw(connection)  # decode where this computer sees the files
        chunks: list[tuple[str, dict[str, object]]] = [("", {})]
        if photo_ids is not None:
            ids = list(photo_ids)
            chunks = [connection.in_("id", ids[start : start + 900]) for start in range(0, len(ids), 900)]
        for listed, params in chunks:
            query = f"{sql} AND id IN ({listed})" if listed else sql
            found = connection.execute(query, {"ok": STATUS_OK, **params}).all()
            rows += [(i, places.to_local(os.fsdecode(path)), fingerprint) for i, path, fingerprint in found]
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
    (``IndexSummary.previews``); they count as made, not as already there. All photos (``photo_ids`` None),
    when complete: no root has a preview backlog any more (``preview_backlog``).
    """
    cache = cache or ThumbnailCache()
    summary = PreviewSummary()
    backlog = pending_backlog(catalog) if photo_ids is None else {}
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
    if completed:
        settle_backlog(catalog, backlog)
    if summary.made:
        summary.pruned = cache.prune()
    return summary


def _ok_ids_under(catalog: Catalog, folders: Sequence[str]) -> list[int]:
    """The ok photos at or below ``folders`` (local paths), through this computer's root map."""
    found: list[int] = []
    sql = (
        "SELECT id FROM photos WHERE status = :ok AND fingerprint IS NOT NULL "
        "AND (folder = :exact OR (folder >= :lower AND folder < :upper))"
    )
    with catalog.raw_read() as connection:
        places = read_root_map_raw(connection)
        for folder in folders:
            exact, lower, upper = under_bounds(places.to_stored(folder))
            params = {"ok": STATUS_OK, "exact": exact, "lower": lower, "upper": upper}
            found += [int(row_id) for (row_id,) in connection.execute(sql, params).all()]
    return found


def previews_after_index(
    catalog: Catalog,
    summary: IndexSummary,
    paths: Sequence[str],
    *,
    full: bool = False,
    cache: ThumbnailCache | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    workers: int | None = None,
) -> PreviewSummary:
    """The previews an ``index`` of ``paths`` leaves to make: those of the photos the run created or changed
    (``summary.photo_ids``), and of every photo under the folders among ``paths`` whose root has a preview
    backlog (all of them with ``full``). A complete pass over a whole root settles its backlog."""
    backlog = pending_backlog(catalog)
    folders = [path for path in paths if os.path.isdir(path)]
    checked: list[str] = []
    settled: dict[int, str] = {}
    for folder in folders:
        root_id = root_id_for(folder, summary.root_ids)
        if root_id is None or not (full or root_id in backlog):
            continue
        checked.append(folder)
        root = next(path for path, known in summary.root_ids.items() if known == root_id)
        if root_id in backlog and is_under(root, folder):
            settled[root_id] = backlog[root_id]  # the whole root is checked: its backlog can be settled
    ids = list(dict.fromkeys([*summary.photo_ids, *_ok_ids_under(catalog, checked)]))
    result = make_previews(catalog, cache, ids, progress, cancel, workers=workers, made_by_index=summary.previews)
    if result.cancelled:
        roots = {root_id_for(folder, summary.root_ids) for folder in folders}
        note_backlog(catalog, [root_id for root_id in roots if root_id is not None])
    else:
        settle_backlog(catalog, settled)
    return result
