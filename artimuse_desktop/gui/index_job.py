"""Indexing as the window runs it: folders (grid thumbnails as it goes), then previews, as one task that
reports ``JobProgress`` through a callback and answers with a ``JobResult``. Plain Python: the task helper
runs it off the GUI thread and hands progress and the result to the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.errors import describe_error
from artimuse_desktop.gui.job_types import (
    INDEX,
    IndexRequest,
    JobProgress,
    JobResult,
    Throttle,
    index_progress,
    summary_failures,
    summary_text,
)

log = logging.getLogger(__name__)


def run_index(catalog: Catalog, request: IndexRequest, report: Callable[[JobProgress], None]) -> JobResult:
    throttle = Throttle()

    def on_progress(progress: Any) -> None:
        final = bool(progress.total) and progress.done >= progress.total
        if throttle.ready(final=final):
            report(index_progress(progress))

    try:
        from artimuse_desktop.imaging.thumbnails import ThumbnailCache
        from artimuse_desktop.library.indexer import index_roots
        from artimuse_desktop.library.previews import previews_after_index

        cache = ThumbnailCache(max_bytes=request.cache_max_bytes) if request.cache_max_bytes else None
        report(JobProgress(INDEX, "Scanning", 0, 0))
        summary = index_roots(
            catalog,
            list(request.roots),
            progress=on_progress,
            cancel=request.token,
            workers=request.workers,
            cache=cache,
            previews=request.previews and cache is not None,  # one decode makes the preview and the grid thumbnail
        )
        failures = summary_failures(summary)
        for path, reason in failures:
            log.warning("could not index %s: %s", path, reason)
        if request.previews and not request.token.cancelled:
            # Only what this run's decode could not cover: moved photos, and roots left with a preview backlog.
            previews = previews_after_index(
                catalog, summary, list(request.roots), cache=cache, progress=on_progress, cancel=request.token
            )
            for path, reason in previews.failures:
                log.warning("could not make a preview of %s: %s", path, reason)
    except Exception as exc:
        log.exception("indexing %s failed", request.roots)
        return JobResult(INDEX, f"Indexing failed: {describe_error(exc)}", error=describe_error(exc))
    text = summary_text(summary)
    if request.token.cancelled:
        message = "Indexing cancelled" + (f" ({text})" if text else "")
    else:
        message = "Indexing finished" + (f": {text}" if text else "")
    return JobResult(INDEX, message, cancelled=request.token.cancelled, failures=failures)
