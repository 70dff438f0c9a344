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
from typing import Any

from artimuse_desktop.errors import DecodeError
from artimuse_desktop.imaging import formats
from artimuse_desktop.imaging.decode import decode
from artimuse_desktop.imaging.source import read_source
from artimuse_desktop.library.embedded_xmp import FileDecisions, read_file_decisions
from artimuse_desktop.library.fingerprint import fingerprint_bytes, fingerprint_file
from artimuse_desktop.library.metadata import read_metadata

log = logging.getLogger(__name__)

GRID_SIZE = 320


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

    fmt: str | None = None
    try:
        fmt = formats.identify(path, data)
        decoded = decode(path, GRID_SIZE, data=data, fmt=fmt, max_pixels=task.max_pixels)
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
    if task.thumbs_root is not None:
        try:
            from artimuse_desktop.imaging.thumbnails import ThumbnailCache

            cache = ThumbnailCache(task.thumbs_root)
            if cache.get(fingerprint, "grid") is None:  # an identical copy may have made it already
                cache.store(fingerprint, "grid", decoded.image)
        except OSError:
            log.warning("cannot write the thumbnail of %s", path, exc_info=True)
    return AnalyseResult(
        task,
        fingerprint=fingerprint,
        decoded=True,
        format=fmt,
        width=decoded.width,
        height=decoded.height,
        orientation=decoded.orientation,
        metadata=metadata.as_dict(),
        phash=_phash(decoded.image),
        seconds=time.perf_counter() - started,
        embedded=embedded,
    )


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
