"""The per-file work of indexing, run on worker threads or processes: one read, then hash, EXIF, pixels, and
the decisions other apps wrote inside the file (``embedded_xmp``).

Kept apart from ``indexer`` so worker processes import only what they need (no SQLAlchemy), and everything
crossing the pool boundary is a small picklable dataclass: pixels never travel back, the worker writes the
grid thumbnail itself straight into the cache.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from artimuse_desktop.errors import DecodeError
from artimuse_desktop.imaging import formats
from artimuse_desktop.imaging.decode import decode
from artimuse_desktop.imaging.pixels import shrink
from artimuse_desktop.imaging.source import read_source
from artimuse_desktop.library.embedded_xmp import FileDecisions, read_file_decisions
from artimuse_desktop.library.fingerprint import fingerprint_bytes, fingerprint_file
from artimuse_desktop.library.metadata import read_metadata

if TYPE_CHECKING:
    from artimuse_desktop.imaging.thumbnails import ThumbnailCache

log = logging.getLogger(__name__)

GRID_SIZE = 320
PREVIEW_SIZE = 1600  # ThumbnailCache.size_of("preview"), without importing the cache in every worker


@dataclass(frozen=True)
class AnalyseTask:
    path: str
    size: int
    mtime: float
    row_id: int | None = None  # the catalog row to update (None: a new photo)
    fingerprint: str | None = None  # already computed (during move detection)
    known_fingerprint: str | None = None  # the catalog's: equal content skips the decode
    thumbs_root: str | None = None  # where to write the grid thumbnail (None: do not)
    max_pixels: int | None = None
    moved: bool = False  # the row was just moved here from a vanished path
    previous_status: str | None = None  # the row's status before this run
    preview: bool = False  # also write the ~1600 px preview, from the same decode (needs thumbs_root)


@dataclass(frozen=True)
class AnalyseResult:
    task: AnalyseTask
    fingerprint: str | None = None
    same_content: bool = False
    decoded: bool = False
    format: str | None = None
    width: int | None = None
    height: int | None = None
    orientation: int | None = None
    metadata: dict[str, Any] | None = None
    phash: str | None = None
    error: str | None = None
    seconds: float = 0.0
    embedded: FileDecisions | None = None  # rating/flag/label inside the file (decoded files only)
    preview_made: bool = False  # the preview was written from this decode
    has_preview: bool = False  # the photo's preview is in the cache (written now, or there already)


def _phash(image: Any) -> str | None:
    try:
        from artimuse_desktop.imaging.phash import phash_hex  # imagehash's bits, without importing SciPy

        return phash_hex(image)
    except Exception:  # a hash is a nicety for duplicate detection; never fail the photo for it
        log.debug("phash failed", exc_info=True)
        return None


def analyse(task: AnalyseTask) -> AnalyseResult:
    """Fingerprint, decode (reduced), read EXIF, hash and thumbnail one file; never raises."""
    started = time.perf_counter()
    path = task.path
    try:
        data = read_source(path)
        fingerprint = task.fingerprint or (fingerprint_bytes(data) if data is not None else fingerprint_file(path))
    except DecodeError as exc:
        return AnalyseResult(task, error=exc.reason, seconds=time.perf_counter() - started)
    except OSError as exc:
        return AnalyseResult(task, error=f"cannot read the file ({exc.strerror or exc})")
    if task.known_fingerprint is not None and fingerprint == task.known_fingerprint:
        return AnalyseResult(task, fingerprint=fingerprint, same_content=True, seconds=time.perf_counter() - started)

    cache = _cache(task)
    long_edge = GRID_SIZE
    had_preview = False
    if cache is not None and task.preview:
        had_preview = cache.get(fingerprint, "preview") is not None
        if not had_preview:
            long_edge = PREVIEW_SIZE  # one decode feeds both sizes: the preview, then the grid from it
    fmt: str | None = None
    try:
        fmt = formats.identify(path, data)
        decoded = decode(path, long_edge, data=data, fmt=fmt, max_pixels=task.max_pixels)
    except DecodeError as exc:
        metadata = read_metadata(path, data=data) if fmt is not None else None
        return AnalyseResult(
            task,
            fingerprint=fingerprint,
            decoded=True,
            format=fmt,
            metadata=None if metadata is None or metadata.is_empty() else metadata.as_dict(),
            error=exc.reason,
            seconds=time.perf_counter() - started,
        )
    except Exception as exc:  # a bug or an exotic library error: report it on this file, keep indexing
        log.exception("unexpected error decoding %s", path)
        return AnalyseResult(task, fingerprint=fingerprint, format=fmt, error=f"cannot decode ({exc!r})")

    metadata = read_metadata(path, data=data, fallback_exif=decoded.exif)
    metadata.orientation = decoded.orientation
    embedded = _file_decisions(path, data, fmt, metadata.rating)
    preview_made = False
    grid = decoded.image
    if long_edge != GRID_SIZE:
        preview_made = _store(cache, fingerprint, "preview", grid, path)
        grid = shrink(grid, GRID_SIZE)
    if cache is not None and cache.get(fingerprint, "grid") is None:  # an identical copy may have made it
        _store(cache, fingerprint, "grid", grid, path)
    return AnalyseResult(
        task,
        fingerprint=fingerprint,
        decoded=True,
        format=fmt,
        width=decoded.width,
        height=decoded.height,
        orientation=decoded.orientation,
        metadata=metadata.as_dict(),
        phash=_phash(grid),
        seconds=time.perf_counter() - started,
        embedded=embedded,
        preview_made=preview_made,
        has_preview=preview_made or had_preview,
    )


def _cache(task: AnalyseTask) -> ThumbnailCache | None:
    """The thumbnail cache the task writes to (imported here, not at the top: see ``_store``), or None."""
    if task.thumbs_root is None:
        return None
    from artimuse_desktop.imaging.thumbnails import ThumbnailCache

    return ThumbnailCache(task.thumbs_root)


def _store(cache: ThumbnailCache | None, fingerprint: str, kind: str, image: Any, path: str) -> bool:
    """Write one thumbnail; a cache that cannot be written (full disk...) costs the thumbnail, not the photo."""
    if cache is None:
        return False
    try:
        cache.store(fingerprint, kind, image)
    except OSError:
        log.warning("cannot write the %s thumbnail of %s", kind, path, exc_info=True)
        return False
    return True


def _file_decisions(path: str, data: bytes | None, fmt: str, exif_rating: int | None) -> FileDecisions | None:
    try:
        return read_file_decisions(path, data, fmt, exif_rating=exif_rating)
    except Exception:  # a bug reading metadata never costs the photo its row
        log.exception("unexpected error reading the decisions inside %s", path)
        return None


def fingerprint_only(path: str) -> tuple[str, str | None, str | None]:
    """(path, fingerprint, error) — the cheap first pass that recognises moved files without decoding them."""
    try:
        return path, fingerprint_file(path), None
    except OSError as exc:
        return path, None, f"cannot read the file ({exc.strerror or exc})"
