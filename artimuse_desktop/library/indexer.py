"""Indexing library folders into the catalog: fast on the first run, nearly free on the next ones.

How a run goes:

1. **Scan** the roots (``scanner``): paths, sizes and modification times only; no file is opened. A folder
   that did not change since the last complete scan (its stamp, ``folder_stamps``) is not even listed: its
   photos count as unchanged and their rows are not read, so adding one photo to a 50,000-photo library
   costs what changed. (Files rewritten in place under the same name wait for the daily full scan.)
2. **Classify** each file against the catalog. Same path, size and mtime: *unchanged*, no hash, no decode. A
   known path whose row was "missing" or "trashed" and that came back unchanged: *restored* (status ok again).
   Anything else known: re-read (if only the mtime changed and the fingerprint is the same, it stays
   unchanged).
3. **Moves**: files at new paths are fingerprinted first (three 64 KiB reads each) and matched against photos
   whose old path vanished (under the roots, already "missing", or elsewhere and gone from disk). A match
   keeps its row — decisions, scores, critiques — and only gets the new path. No decode needed.
4. Photos under the roots that vanished are marked **missing**, never deleted (folders the scan could not read
   are left alone: their photos' fate is unknown).
5. **Decode** the rest in parallel (``analyse``): fingerprint, EXIF, a reduced decode for the 320 px grid
   thumbnail and the perceptual hash (with ``previews=True``, one JPEG draft at the 1600 px preview's size
   writes the preview, and the grid thumbnail and hash come from it: one decode for both sizes). Results are
   written 200 rows per short transaction, each with the ratings and labels of those photos' XMP sidecars
   (never over a decision already made), so a killed run keeps them for every committed photo. Sidecars are
   untrusted input: a bad one is reported, never fatal.

Parallelism: threads by default. Pillow, libjpeg-turbo, LibRaw and libheif release the GIL while decoding,
which is where the time goes; measured on the bench (24 MP JPEGs), threads were as fast as processes on two
cores and start instantly, while a process pool pays ~0.5 s start-up per worker (spawn: fork is unsafe with
LibRaw's OpenMP and with the GUI's threads). ``executor="process"`` is still available for very large
libraries of RAWs where exifread's pure-Python parsing could become the bottleneck.

Nothing in the library is ever written to, moved or deleted: files are opened read-only, and only the catalog
and the thumbnail cache are written.

This module runs the phases in order; they live in ``index_phases`` (classify, moves, missing, decode), their
catalog reads and batched writes in ``index_rows``, move matching in ``moves``, the worker pool in ``parallel``,
progress and the summary in ``index_results``. Previews for the background are ``previews.make_previews``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from datetime import datetime

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.root_locations import load_root_map
from artimuse_desktop.imaging.thumbnails import ThumbnailCache
from artimuse_desktop.library import scanner
from artimuse_desktop.library.folder_stamps import load_stamps
from artimuse_desktop.library.index_phases import (
    IndexRun,
    apply_moves,
    classify,
    decode,
    mark_missing,
    new_file_tasks,
    vanished_rows,
)
from artimuse_desktop.library.index_results import IndexSummary, ProgressCallback, ProgressReporter
from artimuse_desktop.library.index_rows import KnownPhoto, RowWriter, ensure_roots, load_known, mark_roots_scanned
from artimuse_desktop.library.parallel import default_workers

BATCH_SIZE = 200


def index_roots(
    catalog: Catalog,
    roots: Iterable[str | os.PathLike[str]],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    workers: int | None = None,
    executor: str = "thread",
    cache: ThumbnailCache | None = None,
    thumbnails: bool = True,
    max_pixels: int | None = None,
    batch_size: int = BATCH_SIZE,
    retry_failed: bool = False,
    previews: bool = False,
    full_scan: bool = False,
) -> IndexSummary:
    """Index (or re-index) the photos under ``roots``; see the module notes for what each phase does.

    ``retry_failed``: decode again the files that failed before even if they did not change (e.g. after
    fixing their permissions); by default an untouched file is never decoded twice.
    ``previews``: each decoded file also gets its ~1600 px preview, from the same decode (one JPEG draft at
    the preview's size, the grid thumbnail shrunk from it), so a later ``make_previews`` has nothing left to
    decode for them; the count is ``summary.previews``.
    ``full_scan``: list every folder and stat every photo, trusting no folder stamp (``scanner``): finds files
    rewritten in place in folders that did not otherwise change (done anyway once a day, ``folder_stamps``).
    """
    started = time.monotonic()
    report = ProgressReporter(progress, started)
    workers = workers or default_workers()
    if executor not in ("thread", "process"):
        raise ValueError("executor must be 'thread' or 'process'")
    root_list = [scanner.normalize_root(root) for root in roots]
    summary = IndexSummary(roots=root_list, executor=executor, workers=workers)
    if thumbnails:
        cache = cache or ThumbnailCache()

    places = load_root_map(catalog)  # this computer's places for roots first indexed elsewhere
    stamps = {} if full_scan or retry_failed else load_stamps(catalog, root_list, places)
    scan = _scan(root_list, summary, report, cancel, cache, stamps)
    if scan.cancelled:
        return _finish(summary, started, cancelled=True)
    folders = [root for root in root_list if os.path.isdir(root)]
    files = [root for root in root_list if os.path.isfile(root)]
    root_ids = ensure_roots(catalog, folders, places)
    summary.root_ids = dict(root_ids)
    known = load_known(catalog, folders, files, places, unchanged=scan.unchanged_folders)
    entries = scan.files + _looked_at(known, scan)
    summary.unchanged += max(0, scan.unchanged_photos - (len(entries) - len(scan.files)))
    seen = {entry.path for entry in entries}
    run = IndexRun(
        catalog=catalog,
        summary=summary,
        writer=RowWriter(catalog, summary, batch_size, places),
        report=report,
        root_ids=root_ids,
        now=datetime.now(),
        thumbs_root=str(cache.root) if thumbnails and cache is not None else None,
        max_pixels=max_pixels,
        workers=workers,
        executor=executor,
        cancel=cancel,
        previews=previews and thumbnails,
        partial=bool(scan.unchanged_folders),
    )

    tasks, new_entries = classify(run, entries, known, retry_failed=retry_failed)
    vanished = vanished_rows(known, seen, scan)
    report.phase()
    moved = apply_moves(run, new_entries, known, seen, vanished, tasks)
    if moved is None:
        return _finish(summary, started, cancelled=True)
    new_entries, fingerprints = moved
    mark_missing(run, vanished)
    completed = decode(run, tasks + new_file_tasks(run, new_entries, fingerprints))

    if completed:
        # (A single file among the roots is left out of its folder's listing count: no stamps from such a run.)
        stamps_found = None if files else scan.stamps
        mark_roots_scanned(catalog, root_ids, folders, stamps_found, scan.unchanged_folders)
    summary.photo_ids = list(dict.fromkeys(summary.photo_ids))
    if cache is not None and summary.decoded:
        cache.prune()  # new grid thumbnails: keep the cache within its size budget (oldest used go first)
    return _finish(summary, started, cancelled=not completed)


def _scan(
    root_list: list[str],
    summary: IndexSummary,
    report: ProgressReporter,
    cancel: CancelToken | None,
    cache: ThumbnailCache | None,
    stamps: dict[str, scanner.FolderStamp],
) -> scanner.ScanResult:
    """Phase 1: paths, sizes and times only (the thumbnail cache is never scanned as photos)."""
    scan = scanner.scan(
        root_list,
        cancel=cancel,
        progress=lambda folders, found, current: report("scan", found, 0, current),
        exclude=[cache.root] if cache is not None else (),
        stamps=stamps,
    )
    summary.skipped = scan.skipped
    summary.unreadable = scan.unreadable
    summary.ignored = scan.ignored
    return scan


def _looked_at(known: dict[str, KnownPhoto], scan: scanner.ScanResult) -> list[scanner.FileEntry]:
    """The rows in unchanged folders that ``load_known`` read (not plainly "ok": a failure to report again, a
    missing or trashed photo that may be back), each stat-ed on its own as its folder's listing would."""
    found: list[scanner.FileEntry] = []
    for path in known:
        folder = os.path.dirname(path)
        if folder in scan.unchanged_folders:
            entry = scanner.photo_entry(path, folder)
            if entry is not None:
                found.append(entry)
    return found


def _finish(summary: IndexSummary, started: float, *, cancelled: bool) -> IndexSummary:
    # A sidecar that is a FIFO or device link is met by the scan too: one warning per file, the sidecar's.
    bad_sidecars = {path for path, _reason in summary.sidecar_problems}
    summary.skipped = [(path, reason) for path, reason in summary.skipped if path not in bad_sidecars]
    summary.cancelled = cancelled
    summary.elapsed = time.monotonic() - started
    return summary
