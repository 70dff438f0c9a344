"""The on-disk thumbnail cache: small upright JPEGs keyed by content fingerprint, not by path.

Keying by fingerprint means a renamed or moved photo finds its thumbnails again, and two identical copies
share them. Files are written to a temporary name, flushed, fsynced and closed, and only then renamed into
place (``os.replace``), so a crash, a full disk or two processes racing never leave a half-written JPEG under
the final name; a full disk is a ``CacheFullError`` naming the cache folder. ``get`` still checks that a cached
file is a whole JPEG (start and end markers), since one made by an older version may not be: a file that is not
is removed and counts as missing. The cache is disposable: a deleted thumbnail is simply made again on the next
``ensure``. ``prune`` keeps it under a size budget, dropping the
least recently used files first (``get`` refreshes a file's access time, since many systems mount with
``noatime``). Every store and removal is added to a running total (``cache_ledger``), so the prune after an
index run costs what that run changed; only a cache over its budget (or a total that cannot be trusted) is
walked, and then it is brought to ``LOW_WATER`` of the budget so the next runs need no walk either.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from artimuse_desktop.errors import ArtiMuseError
from artimuse_desktop.imaging.cache_ledger import MAX_AGE_S, CacheLedger, LedgerState

if TYPE_CHECKING:
    from PIL import Image

# Pillow (and the decoders) are imported by ``store`` and ``ensure``, when a thumbnail is made: the window's
# first screen only reads cached files (``get``), and a worker importing Pillow (0.05-0.1 s of Python) while
# the GUI thread painted that screen kept it waiting for the GIL (stalls of 125-195 ms right after show).

KIND_SIZES: dict[str, int] = {"grid": 320, "preview": 1600}
"""Long edge in pixels for each kind of thumbnail."""

_QUALITY: dict[str, int] = {"grid": 82, "preview": 88}
# Baseline JPEGs, Huffman tables optimised for the preview: a progressive 1600 px preview took 28 ms to encode
# (libjpeg buffers every scan), this 10 ms for 6 % more bytes; the grid's are small either way (<1 ms).
_OPTIMIZE: dict[str, bool] = {"grid": False, "preview": True}
_FINGERPRINT = re.compile(r"^[0-9A-Za-z_-]{8,64}$")
_TOUCH_EVERY_S = 3600.0  # refresh a file's access time at most once an hour
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_JPEG_START, _JPEG_END = b"\xff\xd8", b"\xff\xd9"
LOW_WATER = 0.9
"""A prune that has to delete brings the cache to this share of its budget, leaving room for the next runs."""
_FOLD_AFTER = 1000  # ledger lines before a prune folds them into one checkpoint


class CacheFullError(ArtiMuseError, OSError):
    """The thumbnail cache's disk is full. Also an ``OSError`` (ENOSPC), so callers that skip a thumbnail on
    any OS error keep doing so; its text names the cache folder, so the reason reaches the summary."""

    def __init__(self, folder: Path) -> None:
        ArtiMuseError.__init__(
            self,
            f"cannot write the thumbnail: no space left on device for the thumbnail cache {folder}",
            "free some space on that disk, lower the cache size in the settings, or move the cache "
            "(ARTIMUSE_CACHE_DIR); the photos themselves are untouched",
        )
        self.errno = errno.ENOSPC
        self.strerror = "No space left on device"
        self.filename = str(folder)

    def __str__(self) -> str:
        return self.message


def _is_whole_jpeg(path: Path, size: int) -> bool:
    """Cheap check that a cached file was written to the end: JPEG start marker first, end marker last."""
    if size < 4:
        return False
    try:
        with open(path, "rb") as handle:
            start = handle.read(2)
            handle.seek(-2, os.SEEK_END)
            return start == _JPEG_START and handle.read(2) == _JPEG_END
    except OSError:
        return False


@dataclass(frozen=True)
class PruneResult:
    removed_files: int
    removed_bytes: int
    remaining_bytes: int


class ThumbnailCache:
    """Thumbnails in ``root/<kind>/<last 2 chars>/<fingerprint>.jpg``; safe to share between processes."""

    def __init__(self, root: Path | str | None = None, max_bytes: int = 2 * 1024**3) -> None:
        if root is None:
            from artimuse_desktop import paths

            root = paths.thumbnails_dir()
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self._ledger = CacheLedger(self.root)

    @staticmethod
    def size_of(kind: str) -> int:
        try:
            return KIND_SIZES[kind]
        except KeyError:
            raise ValueError(f"unknown thumbnail kind {kind!r}; use one of {', '.join(KIND_SIZES)}") from None

    def path_for(self, fingerprint: str, kind: str) -> Path:
        """Where the thumbnail lives (whether or not it exists yet)."""
        self.size_of(kind)
        if not _FINGERPRINT.match(fingerprint):
            raise ValueError(f"not a fingerprint: {fingerprint!r}")
        return self.root / kind / fingerprint[-2:] / f"{fingerprint}.jpg"

    def get(self, fingerprint: str, kind: str) -> Path | None:
        """The thumbnail's path when it exists whole (its access time is refreshed for ``prune``), else None.

        A cached file that is not a whole JPEG (cut short by a full disk in an older version, or damaged) is
        deleted and treated as missing, so it is rebuilt instead of being served.
        """
        path = self.path_for(fingerprint, kind)
        try:
            stat = path.stat()
        except OSError:
            return None
        if not _is_whole_jpeg(path, stat.st_size):
            with contextlib.suppress(OSError):
                path.unlink()
                self._ledger.record(-stat.st_size)
            return None
        now = time.time()
        if now - stat.st_atime > _TOUCH_EVERY_S:
            with contextlib.suppress(OSError):
                os.utime(path, (now, stat.st_mtime))
        return path

    def store(self, fingerprint: str, kind: str, image: Image.Image) -> Path:
        """Save an already upright RGB image as the thumbnail (shrunk to the kind's size), atomically."""
        target = self.path_for(fingerprint, kind)
        long_edge = self.size_of(kind)
        if max(image.size) > long_edge:
            from PIL import Image

            scale = long_edge / max(image.size)
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        if image.mode != "RGB":
            image = image.convert("RGB")
        # Encoded in memory first: Pillow writes a file straight to its descriptor and loses a short write on
        # a full disk, which left a truncated JPEG that looked saved. Python's own writes raise ENOSPC.
        encoded = io.BytesIO()
        image.save(encoded, "JPEG", quality=_QUALITY[kind], optimize=_OPTIMIZE[kind])
        data = encoded.getbuffer()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".jpg", dir=target.parent)
        except OSError as exc:
            if exc.errno in _FULL_ERRNOS:
                raise CacheFullError(self.root) from exc
            raise
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())  # the bytes are on disk before the name points at them
                if os.fstat(out.fileno()).st_size != len(data):
                    raise OSError(errno.EIO, f"short write ({len(data)} bytes expected)", temp_name)
            try:
                replaced = target.stat().st_size  # another process stored the same key first
            except OSError:
                replaced = 0
            os.replace(temp_name, target)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
                raise CacheFullError(self.root) from exc
            raise
        self._ledger.record(len(data) - replaced)
        return target

    def ensure(
        self,
        source_path: str | Path,
        fingerprint: str,
        kind: str,
        orientation: int | None = None,
        *,
        image: Image.Image | None = None,
        max_pixels: int | None = None,
    ) -> Path:
        """The thumbnail, made first if missing.

        ``image``: an upright image already decoded (e.g. by the indexer); used when it is at least as large
        as the thumbnail, which saves decoding the photo again. ``orientation`` overrides the file's own EXIF
        orientation. Raises DecodeError when the photo cannot be decoded, CacheFullError when the cache's disk
        is full (nothing is left under the final name).
        """
        existing = self.get(fingerprint, kind)
        if existing is not None:
            return existing
        long_edge = self.size_of(kind)
        if image is None or max(image.size) < long_edge:
            from artimuse_desktop.imaging.decode import decode

            image = decode(source_path, long_edge, orientation=orientation, max_pixels=max_pixels).image
        return self.store(fingerprint, kind, image)

    def discard(self, fingerprint: str) -> None:
        """Remove every kind of thumbnail of one fingerprint (e.g. after the photo's content changed)."""
        for kind in KIND_SIZES:
            path = self.path_for(fingerprint, kind)
            with contextlib.suppress(OSError):
                size = path.stat().st_size
                path.unlink()
                self._ledger.record(-size)

    def total_bytes(self) -> int:
        """The exact size of the cache, from a walk (``prune`` uses the running total instead)."""
        return sum(size for _, size, _ in self._entries())

    def _entries(self) -> list[tuple[Path, int, float]]:
        entries: list[tuple[Path, int, float]] = []
        if not self.root.is_dir():
            return entries
        for kind in KIND_SIZES:
            for directory, _dirs, files in os.walk(self.root / kind):
                for name in files:
                    path = Path(directory, name)
                    try:
                        stat = path.stat()
                    except OSError:
                        continue
                    if name.startswith(".tmp-") and time.time() - stat.st_mtime > 3600:
                        with contextlib.suppress(OSError):
                            path.unlink()  # left behind by a crash
                        continue
                    entries.append((path, stat.st_size, max(stat.st_atime, stat.st_mtime)))
        return entries

    def prune(self, max_bytes: int | None = None) -> PruneResult:
        """Keep the cache within ``max_bytes`` (default: the cache's budget), deleting least recently used
        thumbnails first; previews go before grid thumbnails of the same age since they cost more space.

        Under budget by the running total, this reads only the changes since the last prune. Otherwise it walks
        the cache, and where it is really over budget deletes down to ``LOW_WATER`` of it."""
        budget = self.max_bytes if max_bytes is None else max_bytes
        if not self.root.is_dir():
            return PruneResult(0, 0, 0)
        with self._ledger.exclusive() as ledger:  # appends wait meanwhile: the walk and the new total agree
            state = ledger.state()
            if _trusted(state, budget) and state is not None and state.total_bytes <= budget:
                if state.changes > _FOLD_AFTER:
                    ledger.checkpoint(state.total_bytes, state.budget, state.taken_at)
                return PruneResult(0, 0, state.total_bytes)
            walked_at = time.time()
            entries = self._entries()
            total = sum(size for _, size, _ in entries)
            removed = removed_bytes = 0
            if total > budget:
                target = int(budget * LOW_WATER)
                entries.sort(key=lambda entry: (entry[2], entry[0].parent.parent.name != "preview"))
                for path, size, _ in entries:
                    if total <= target:
                        break
                    try:
                        path.unlink()
                    except OSError:
                        continue
                    total -= size
                    removed += 1
                    removed_bytes += size
            ledger.checkpoint(total, budget, walked_at)
        return PruneResult(removed, removed_bytes, total)


def _trusted(state: LedgerState | None, budget: int) -> bool:
    """Whether the running total may stand in for a walk: readable, recent, and kept for this budget or a
    smaller one (a smaller budget than before is a request to look at everything once)."""
    if state is None:
        return False
    age = time.time() - state.taken_at
    return -86400.0 < age < MAX_AGE_S and budget >= state.budget
