"""The batched scoring pipeline, shared by the command line and the GUI's worker thread (no Qt here).

It selects the photos that need a score, prepares them on a thread pool ahead of the model (prefetch), feeds the
backend in batches, writes each batch in one transaction, reports progress through a callback and stops cleanly
on a ``CancelToken``. A run killed at any moment loses at most the batch in flight: the next run picks up what
is not stored yet. Out of memory halves the batch (down to 1); a photo that still fails is recorded with its
reason and the run goes on.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import STATUS_OK, Assessment, Photo
from artimuse_desktop.catalog.root_locations import RootMap, root_map
from artimuse_desktop.errors import ArtiMuseError, OutOfMemoryError, PhotoError
from artimuse_desktop.scoring.backend import Backend, TokenCallback
from artimuse_desktop.scoring.store import save_critiques, save_results
from artimuse_desktop.scoring.types import PhotoInput, ScoreResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoringProgress:
    """Plain data for progress bars: safe to send across threads."""

    done: int
    total: int
    failed: int
    rate: float  # photos per second over the run so far
    eta_s: float | None
    current: str | None
    batch_size: int


@dataclass
class ScoringSummary:
    model: str
    version: str
    total: int = 0
    scored: int = 0
    failed: int = 0
    cancelled: bool = False
    elapsed_s: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return (self.scored + self.failed) / self.elapsed_s if self.elapsed_s > 0 else 0.0


ProgressCallback = Callable[[ScoringProgress], None]


def _preview_lookup() -> Callable[[str | None], str | None]:
    """Map a fingerprint to its cached preview, if the thumbnail cache has one (the technical backend uses it)."""
    try:
        from artimuse_desktop.imaging.thumbnails import ThumbnailCache
    except ImportError:  # pragma: no cover - the imaging package is part of the app
        return lambda _fingerprint: None
    cache = ThumbnailCache()

    def lookup(fingerprint: str | None) -> str | None:
        if not fingerprint:
            return None
        try:
            found = cache.get(fingerprint, "preview")
        except ValueError:  # not a fingerprint the cache can key by: no preview
            return None
        return str(found) if found is not None else None

    return lookup


def select_photos(
    catalog: Catalog,
    model: str,
    version: str,
    *,
    rescore: bool = False,
    retry_failed: bool = False,
    photo_ids: Sequence[int] | None = None,
) -> list[PhotoInput]:
    """Photos that need this model's score: never scored at this version, or whose content changed since.

    Photos that failed before at this version with the same content are skipped unless ``retry_failed``.
    """
    lookup_preview = _preview_lookup()
    with catalog.read() as session:
        existing = and_(
            Assessment.photo_id == Photo.id,
            Assessment.model == model,
            Assessment.model_version == version,
            Assessment.fingerprint == Photo.fingerprint,
        )
        stmt = select(Photo.id, Photo.path, Photo.fingerprint, Photo.orientation, Photo.width, Photo.height).where(
            Photo.status == STATUS_OK, Photo.fingerprint.is_not(None)
        )
        if not rescore:
            done = select(Assessment.id).where(existing)
            if retry_failed:
                done = done.where(Assessment.error.is_(None))
            stmt = stmt.where(~done.exists())
        if photo_ids is not None:
            stmt = stmt.where(Photo.id.in_(list(photo_ids)))
        stmt = stmt.order_by(Photo.captured_at.is_(None), Photo.captured_at, Photo.id)
        rows = session.execute(stmt).all()
        roots = root_map(session)
    return [_photo_input(row, lookup_preview, roots) for row in rows]


def _photo_input(row: Any, lookup_preview: Callable[[str | None], str | None], roots: RootMap) -> PhotoInput:
    """Plain data from a photo row (ORM object or result row): what crosses into the prepare threads, with the
    path where this computer sees the file (a root mapped with ``roots map``)."""
    return PhotoInput(
        photo_id=row.id,
        path=roots.to_local(row.path),
        fingerprint=row.fingerprint,
        orientation=row.orientation,
        preview_path=lookup_preview(row.fingerprint),
        width=row.width,
        height=row.height,
    )


def failure_reason(exc: BaseException) -> str:
    """The text stored for a photo that failed (shared with the Ray workers, so both paths record the same)."""
    if isinstance(exc, PhotoError):
        return exc.reason
    if isinstance(exc, ArtiMuseError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _prefetched(
    backend: Backend, items: Sequence[PhotoInput], workers: int, ahead: int
) -> Iterator[tuple[PhotoInput, Any, BaseException | None]]:
    """Yield (item, prepared, error) in order while up to ``ahead`` items are being prepared in the pool."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prepare") as pool:
        pending: deque[tuple[PhotoInput, Future[Any]]] = deque()
        iterator = iter(items)
        try:
            for item in iterator:
                pending.append((item, pool.submit(backend.prepare, item)))
                if len(pending) >= ahead:
                    break
            while pending:
                item, future = pending.popleft()
                next_item = next(iterator, None)
                if next_item is not None:
                    pending.append((next_item, pool.submit(backend.prepare, next_item)))
                try:
                    yield item, future.result(), None
                except Exception as exc:
                    yield item, None, exc
        finally:
            for _, future in pending:
                future.cancel()


class Batcher:
    """Scores a batch, halving it on out-of-memory and isolating photos that make the backend fail (the Ray
    actors score through it too)."""

    def __init__(self, backend: Backend, batch_size: int) -> None:
        self.backend = backend
        self.batch_size = max(1, batch_size)

    def score(self, prepared: list[Any], items: list[PhotoInput]) -> list[ScoreResult]:
        try:
            results = self.backend.score_batch(prepared)
            if len(results) != len(prepared):
                raise RuntimeError(f"backend returned {len(results)} results for {len(prepared)} photos")
            return results
        except OutOfMemoryError as exc:
            if len(prepared) == 1:
                return [ScoreResult(error=f"out of memory even alone: {exc.message}")]
            half = len(prepared) // 2
            self.batch_size = max(1, min(self.batch_size, half))
            log.warning("out of memory with %d photos per batch; retrying with %d", len(prepared), half)
            return self.score(prepared[:half], items[:half]) + self.score(prepared[half:], items[half:])
        except Exception as exc:
            if len(prepared) == 1:
                log.exception("scoring %s failed", items[0].path)
                return [ScoreResult(error=failure_reason(exc))]
            # Find the photo that breaks the batch instead of losing all of them.
            half = len(prepared) // 2
            return self.score(prepared[:half], items[:half]) + self.score(prepared[half:], items[half:])


def progress_of(summary: ScoringSummary, started: float, current: str | None, batch_size: int) -> ScoringProgress:
    """Where a run stands (also updates ``elapsed_s``); the local pipeline and the Ray driver report alike."""
    summary.elapsed_s = time.perf_counter() - started
    finished = summary.scored + summary.failed
    rate = finished / summary.elapsed_s if summary.elapsed_s > 0 else 0.0
    eta = (summary.total - finished) / rate if rate > 0 else None
    return ScoringProgress(finished, summary.total, summary.failed, rate, eta, current, batch_size)


def store_batch(catalog: Catalog, summary: ScoringSummary, pairs: Sequence[tuple[PhotoInput, ScoreResult]]) -> None:
    """Write one batch in one transaction and count it into ``summary``: a run stopped at any point keeps every
    batch written so far, whichever path (threads or Ray) scored it."""
    with catalog.write() as session:
        save_results(session, summary.model, summary.version, [p[0] for p in pairs], [p[1] for p in pairs])
    for item, result in pairs:
        if result.error:
            summary.failed += 1
            summary.failures.append((item.path, result.error))
        else:
            summary.scored += 1


def run_scoring(
    catalog: Catalog,
    backend: Backend,
    *,
    batch_size: int = 8,
    rescore: bool = False,
    retry_failed: bool = False,
    photo_ids: Sequence[int] | None = None,
    items: Sequence[PhotoInput] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    prefetch_workers: int | None = None,
) -> ScoringSummary:
    """Score every photo that needs it with an already loaded backend; returns what happened."""
    cancel = cancel or CancelToken()
    model, version = backend.name, backend.version
    if items is None:
        items = select_photos(catalog, model, version, rescore=rescore, retry_failed=retry_failed, photo_ids=photo_ids)
    summary = ScoringSummary(model=model, version=version, total=len(items))
    started = time.perf_counter()
    if not items:
        return summary
    batcher = Batcher(backend, batch_size)
    workers = prefetch_workers or max(1, min(8, os.cpu_count() or 1))
    ahead = max(batcher.batch_size * 3, workers * 2)

    def report(current: str | None) -> None:
        if progress is not None:
            progress(progress_of(summary, started, current, batcher.batch_size))

    batch_items: list[PhotoInput] = []
    batch_prepared: list[Any] = []
    failed_early: list[tuple[PhotoInput, ScoreResult]] = []

    def flush() -> None:
        results = batcher.score(batch_prepared, batch_items) if batch_items else []
        pairs = list(zip(batch_items, results, strict=True)) + failed_early
        store_batch(catalog, summary, pairs)
        report(pairs[-1][0].path if pairs else None)
        batch_items.clear()
        batch_prepared.clear()
        failed_early.clear()

    report(None)
    for item, prepared, error in _prefetched(backend, items, workers, ahead):
        if not cancel.wait_if_paused() or cancel.cancelled:
            summary.cancelled = True
            break
        if error is not None:
            failed_early.append((item, ScoreResult(error=failure_reason(error))))
        else:
            batch_items.append(item)
            batch_prepared.append(prepared)
        if len(batch_items) >= batcher.batch_size or len(failed_early) >= batcher.batch_size:
            flush()
    if not summary.cancelled and (batch_items or failed_early):
        flush()
    summary.elapsed_s = time.perf_counter() - started
    return summary


def photo_input(catalog: Catalog, photo_id: int) -> PhotoInput:
    lookup_preview = _preview_lookup()
    with catalog.read() as session:
        photo = session.get(Photo, photo_id)
        if photo is None:
            raise ArtiMuseError(f"no photo with id {photo_id} in the catalog")
        if photo.fingerprint is None or photo.status != STATUS_OK:
            raise PhotoError(photo.path, f"cannot be assessed (status {photo.status}: {photo.error or 'not indexed'})")
        return _photo_input(photo, lookup_preview, root_map(session))


def critique_photo(
    catalog: Catalog,
    backend: Backend,
    photo_id: int,
    attributes: Sequence[str] | None = None,
    *,
    on_token: TokenCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, str]:
    """Write (and store) critiques for one photo; scores it first if this model has not yet.

    A cancelled critique stores nothing: half a sentence is not a critique.
    """
    from artimuse_desktop.vocabulary import ATTRIBUTES

    if not backend.supports_critique:
        raise ArtiMuseError(f"the model {backend.name!r} does not write critiques", hint="choose an ArtiMuse model")
    item = photo_input(catalog, photo_id)
    if select_photos(catalog, backend.name, backend.version, photo_ids=[photo_id]):
        run_scoring(catalog, backend, items=[item], batch_size=1, cancel=cancel)
    cancel = cancel or CancelToken()
    texts = backend.critique(item, list(attributes or ATTRIBUTES), on_token=on_token, cancel=cancel)
    if cancel.cancelled:
        return {}
    with catalog.write() as session:
        save_critiques(session, item, backend.name, backend.version, texts)
    return texts
