"""The phases of an indexing run, each a function over one shared ``IndexRun``; ``indexer`` runs them in order.

classify (no file opened) → moves (fingerprints only) → missing → decode (the expensive part, in parallel).
Counts go into ``run.summary``; row changes through ``run.writer``, which also takes the XMP sidecar decisions
of the rows a run creates or changes, and those the decode found inside the files, in the same transactions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog.constants import STATUS_ERROR, STATUS_MISSING, STATUS_OK, STATUS_TRASHED
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.library import scanner
from artimuse_desktop.library.analyse import AnalyseResult, AnalyseTask, analyse, fingerprint_only
from artimuse_desktop.library.index_results import IndexSummary, ProgressReporter
from artimuse_desktop.library.index_rows import (
    ACTIVE_STATUSES,
    KnownPhoto,
    RowWriter,
    display_name,
    root_id_for,
    row_values,
)
from artimuse_desktop.library.moves import match_moves, may_have_moves
from artimuse_desktop.library.parallel import run_parallel


@dataclass
class IndexRun:
    """What every phase of one run shares: where to write, what to count, how to decode."""

    catalog: Catalog
    summary: IndexSummary
    writer: RowWriter
    report: ProgressReporter
    root_ids: dict[str, int]
    now: datetime
    thumbs_root: str | None
    max_pixels: int | None
    workers: int
    executor: str
    cancel: CancelToken | None
    previews: bool = False  # the decode writes the ~1600 px previews too (one decode for both sizes)
    # The scan trusted folder stamps: ``known`` holds only the rows of folders that changed, so any photo
    # elsewhere may be a new file's old place (new files are fingerprinted first; no count to tell).
    partial: bool = False


def classify(
    run: IndexRun, entries: Sequence[scanner.FileEntry], known: dict[str, KnownPhoto], *, retry_failed: bool
) -> tuple[list[AnalyseTask], list[scanner.FileEntry]]:
    """Sort scanned files by what they need: nothing, a status change, a re-read, or (new paths) a look first.

    Returns the re-reads to decode and the files at new paths.
    """
    summary, writer = run.summary, run.writer
    tasks: list[AnalyseTask] = []
    new_entries: list[scanner.FileEntry] = []
    for entry in entries:
        row = known.get(entry.path)
        if row is None:
            new_entries.append(entry)
            continue
        same_stat = row.size == entry.size and row.mtime == entry.mtime
        if same_stat and row.status == STATUS_OK:
            summary.unchanged += 1
        elif same_stat and row.status == STATUS_ERROR and not retry_failed:
            # Known bad and untouched: report it again without paying for another decode.
            summary.failed += 1
            summary.failures.append((entry.path, row.error or "could not be read"))
        elif same_stat and row.status in (STATUS_MISSING, STATUS_TRASHED) and not row.error:
            summary.restored += 1
            values = {"id": row.id, "status": STATUS_OK, "root_id": root_id_for(entry.path, run.root_ids)}
            writer.update(values, changed=entry.path)
        else:
            trusted = row.fingerprint if row.status != STATUS_ERROR and not row.error else None
            tasks.append(
                AnalyseTask(
                    entry.path, entry.size, entry.mtime, row_id=row.id, known_fingerprint=trusted,
                    thumbs_root=run.thumbs_root, preview=run.previews, max_pixels=run.max_pixels,
                    previous_status=row.status,
                )
            )  # fmt: skip
    writer.flush()
    return tasks, new_entries


def vanished_rows(known: dict[str, KnownPhoto], seen: set[str], scan: scanner.ScanResult) -> dict[str, KnownPhoto]:
    """Known active photos the scan did not find (folders it could not read are left out: fate unknown)."""
    return {
        path: row
        for path, row in known.items()
        if path not in seen and row.status in ACTIVE_STATUSES and not scan.is_under_unreadable(path)
    }


def apply_moves(
    run: IndexRun,
    new_entries: list[scanner.FileEntry],
    known: dict[str, KnownPhoto],
    seen: set[str],
    vanished: dict[str, KnownPhoto],
    tasks: list[AnalyseTask],
) -> tuple[list[scanner.FileEntry], dict[str, str]] | None:
    """Give moved photos their new path; returns the files still new and their fingerprints (None: cancelled).

    Moved rows that had failed are queued on ``tasks`` to decode again; their vanished entry is dropped.
    """
    summary, writer = run.summary, run.writer
    fingerprints: dict[str, str] = {}
    if not new_entries or not (run.partial or may_have_moves(run.catalog, known, seen, vanished)):
        return new_entries, fingerprints

    def keep_fingerprint(path: str, result: tuple[str, str | None, str | None]) -> None:
        _, fingerprint, _error = result
        summary.hashed += 1
        if fingerprint is not None:
            fingerprints[path] = fingerprint
        run.report("match", summary.hashed, len(new_entries), path)

    ok = run_parallel(
        [entry.path for entry in new_entries],
        fingerprint_only,
        workers=run.workers,
        executor="thread",  # I/O bound: three small reads per file
        cancel=run.cancel,
        on_result=keep_fingerprint,
        on_error=lambda path, exc: None,  # unreadable: the decode step reports it
    )
    if not ok:
        return None
    moves = match_moves(run.catalog, new_entries, fingerprints, vanished, seen, run.writer.places)
    remaining: list[scanner.FileEntry] = []
    for entry in new_entries:
        source = moves.get(entry.path)
        if source is None:
            remaining.append(entry)
            continue
        vanished.pop(source.path, None)
        values = {
            "id": source.id,
            "path": entry.path,
            "folder": os.path.dirname(entry.path),
            "filename": display_name(entry.path),
            "root_id": root_id_for(entry.path, run.root_ids),
            "size": entry.size,
            "mtime": entry.mtime,
        }
        if source.status == STATUS_ERROR or source.error:
            writer.update(values)  # the new path now; decode again to clear or confirm the error
            tasks.append(
                AnalyseTask(
                    entry.path, entry.size, entry.mtime, row_id=source.id,
                    fingerprint=fingerprints.get(entry.path), thumbs_root=run.thumbs_root, preview=run.previews,
                    max_pixels=run.max_pixels, moved=True,
                )
            )  # fmt: skip
        else:
            writer.update({**values, "status": STATUS_OK, "indexed_at": run.now}, changed=entry.path)
            summary.moved += 1
    # Moving a row to a path that another row still holds would break the unique index: flush moves
    # before anything else is written.
    writer.flush()
    return remaining, fingerprints


def mark_missing(run: IndexRun, vanished: dict[str, KnownPhoto]) -> None:
    """Vanished photos are marked missing, never deleted: their decisions wait for them to come back."""
    for row in vanished.values():
        run.writer.update({"id": row.id, "status": STATUS_MISSING})
        run.summary.missing += 1
    run.writer.flush()


def new_file_tasks(
    run: IndexRun, entries: Sequence[scanner.FileEntry], fingerprints: dict[str, str]
) -> list[AnalyseTask]:
    """Decode tasks for files at new paths (reusing a fingerprint the move check already read)."""
    return [
        AnalyseTask(
            entry.path, entry.size, entry.mtime, fingerprint=fingerprints.get(entry.path),
            thumbs_root=run.thumbs_root, preview=run.previews, max_pixels=run.max_pixels,
        )
        for entry in entries
    ]  # fmt: skip


def decode(run: IndexRun, tasks: Sequence[AnalyseTask]) -> bool:
    """Analyse the files in parallel and write their rows; returns False when cancelled."""
    run.report.phase()
    done = 0

    def handle(task: AnalyseTask, result: AnalyseResult) -> None:
        nonlocal done
        done += 1
        apply_result(run, result)
        run.report("index", done, len(tasks), task.path, force=done == len(tasks))

    def crashed(task: AnalyseTask, exc: BaseException) -> None:
        handle(task, AnalyseResult(task, error=f"cannot index ({exc!r})"))

    completed = run_parallel(
        tasks,
        analyse,
        workers=run.workers,
        executor=run.executor,
        cancel=run.cancel,
        on_result=handle,
        on_error=crashed,
    )
    run.writer.flush()
    return completed


def apply_result(run: IndexRun, result: AnalyseResult) -> None:
    """Count one analysed file and queue its row insert or update."""
    summary, writer = run.summary, run.writer
    task = result.task
    if result.fingerprint is not None and task.fingerprint is None:
        summary.hashed += 1
    if result.same_content:
        # Touched but identical: only the stat changed.
        restored = task.previous_status in (STATUS_MISSING, STATUS_TRASHED)
        values = {"id": task.row_id, "size": task.size, "mtime": task.mtime, "status": STATUS_OK}
        writer.update(values, changed=task.path if restored else None)
        if restored:
            summary.restored += 1
        else:
            summary.unchanged += 1
        return
    if result.decoded:
        summary.decoded += 1
    if result.preview_made:
        summary.previews += 1
    values = row_values(result, run.root_ids, run.now)
    if not result.error and not result.has_preview:
        writer.lacks_preview(root_id_for(task.path, run.root_ids))  # the next ``index`` checks that root's previews
    embedded = result.embedded
    if embedded is not None and embedded.problem:
        summary.embedded_problems.append((task.path, embedded.problem))
    in_file = embedded.decisions if embedded is not None and not result.error else None
    if result.error:
        summary.failed += 1
        summary.failures.append((task.path, result.error))
    elif task.moved:
        summary.moved += 1
    elif task.row_id is not None:
        summary.updated += 1
    else:
        summary.new += 1
    if task.row_id is None:
        writer.insert(values, in_file=in_file)
    else:
        writer.update({"id": task.row_id, **values}, changed=task.path, in_file=in_file)
