"""Thumbnails, previews and full-resolution images decoded off the GUI thread.

Requests go to a newest-first queue drained by a few pool threads: when the user scrolls fast, the rows now on
screen are decoded first and rows long scrolled past are dropped from the queue. Workers make ``QImage``s
(safe off the GUI thread); the GUI thread turns them into ``QPixmap``s. The disk cache is
``imaging.thumbnails.ThumbnailCache`` when it is installed; otherwise images are decoded with Pillow directly.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QImageReader, QPixmap

from artimuse_desktop.gui.tasks import GuiCaller, PoolCall, new_pool

log = logging.getLogger(__name__)

GRID = "grid"
PREVIEW = "preview"
FULL = "full"
EDGES = {GRID: 320, PREVIEW: 1600}
MAX_QUEUED_GRID = 400  # older requests than this are forgotten: their rows have scrolled away


@dataclass(frozen=True)
class ImageRequest:
    """Plain data about one image to load (never an ORM object)."""

    photo_id: int
    kind: str
    path: str
    fingerprint: str | None = None
    orientation: int | None = None


def pil_to_qimage(image: Any) -> QImage:
    """A deep-copied RGB888 QImage of a Pillow image (the bytes buffer may go away after)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    data = image.tobytes()
    width, height = image.size
    return QImage(data, width, height, width * 3, QImage.Format.Format_RGB888).copy()


def _decode_with_pillow(path: str, edge: int | None) -> QImage:
    from PIL import Image, ImageOps

    with Image.open(path) as opened:
        if edge is not None:
            opened.draft("RGB", (edge, edge))  # JPEG: decode at 1/2, 1/4 or 1/8 scale, much faster
        image = ImageOps.exif_transpose(opened)
        if image is None:  # pragma: no cover - exif_transpose returns an image unless in_place
            image = opened
        image = image.convert("RGB")
        if edge is not None:
            image.thumbnail((edge, edge))
        return pil_to_qimage(image)


def _read_qimage(path: str) -> QImage:
    reader = QImageReader(path)
    reader.setAutoTransform(False)  # the cache stores images with the orientation already applied
    image = reader.read()
    if image.isNull():
        raise OSError(f"cannot read the cached image {path}: {reader.errorString()}")
    return image


class ImageLoader(QObject):
    """Decodes requested images on a pool; ``loaded``/``failed`` arrive on the GUI thread."""

    loaded = Signal(int, str, QImage)  # photo id, kind, image
    failed = Signal(int, str, str)  # photo id, kind, reason

    def __init__(self, parent: QObject | None = None, *, cache_max_bytes: int | None = None, threads: int = 0):
        super().__init__(parent)
        self._threads = threads or max(2, min(4, (os.cpu_count() or 2)))
        self._pool = new_pool(self, self._threads)
        self._gui = GuiCaller(self)
        self._lock = threading.Lock()
        self._urgent: OrderedDict[tuple[int, str], ImageRequest] = OrderedDict()
        self._queued: OrderedDict[tuple[int, str], ImageRequest] = OrderedDict()
        self._in_flight: set[tuple[int, str]] = set()
        self._draining = 0
        self._closed = False
        self._cache_max_bytes = cache_max_bytes
        self._cache: Any = None
        self._cache_ready = False

    # ------------------------------------------------------------------ GUI thread

    def request(self, request: ImageRequest, *, urgent: bool = False) -> None:
        """Queue a load unless it is already queued or running; newest requests run first."""
        key = (request.photo_id, request.kind)
        with self._lock:
            if self._closed or key in self._in_flight:
                return
            queue = self._urgent if urgent or request.kind != GRID or key in self._urgent else self._queued
            if key in self._queued and queue is self._urgent:
                del self._queued[key]
            queue[key] = request
            queue.move_to_end(key)
            while len(self._queued) > MAX_QUEUED_GRID:
                self._queued.popitem(last=False)
            start = self._draining < self._threads
            if start:
                self._draining += 1
        if start:
            self._pool.start(PoolCall(self._drain))

    def is_pending(self, photo_id: int, kind: str) -> bool:
        key = (photo_id, kind)
        with self._lock:
            return key in self._queued or key in self._urgent or key in self._in_flight

    def forget_queued(self) -> None:
        """Drop queued grid requests (the grid shows other photos now); running ones finish."""
        with self._lock:
            self._queued.clear()

    def idle(self) -> bool:
        with self._lock:
            return not (self._queued or self._urgent or self._in_flight) and self._draining == 0

    def wait(self, msecs: int = 10000) -> bool:
        return bool(self._pool.waitForDone(msecs))

    def shutdown(self, msecs: int = 10000) -> None:
        with self._lock:
            self._closed = True
            self._queued.clear()
            self._urgent.clear()
        self._pool.waitForDone(msecs)

    def _on_loaded(self, photo_id: int, kind: str, image: QImage) -> None:
        with self._lock:
            self._in_flight.discard((photo_id, kind))
        self.loaded.emit(photo_id, kind, image)

    def _on_failed(self, photo_id: int, kind: str, reason: str) -> None:
        with self._lock:
            self._in_flight.discard((photo_id, kind))
        self.failed.emit(photo_id, kind, reason)

    # ------------------------------------------------------------------ pool threads

    def _next(self) -> ImageRequest | None:
        with self._lock:
            for queue in (self._urgent, self._queued):
                if queue and not self._closed:
                    key, request = queue.popitem(last=True)
                    self._in_flight.add(key)
                    return request
            self._draining -= 1
            return None

    def _drain(self) -> None:
        while True:
            request = self._next()
            if request is None:
                return
            try:
                image = self.load(request)
            except Exception as exc:
                reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
                log.info("cannot load %s of %s: %s", request.kind, request.path, reason)
                self._emit_failed(request, str(reason))
            else:
                self._emit_loaded(request, image)

    def _emit_loaded(self, request: ImageRequest, image: QImage) -> None:
        self._gui.call(lambda: self._on_loaded(request.photo_id, request.kind, image))

    def _emit_failed(self, request: ImageRequest, reason: str) -> None:
        self._gui.call(lambda: self._on_failed(request.photo_id, request.kind, reason))

    def set_cache_max_bytes(self, max_bytes: int | None) -> None:
        """A new size budget from the settings: the next thumbnail opens the cache with it."""
        with self._lock:
            self._cache_max_bytes = max_bytes
            self._cache_ready = False
            self._cache = None

    def _thumbnail_cache(self) -> Any:
        with self._lock:
            if self._cache_ready:
                return self._cache
            max_bytes = self._cache_max_bytes
        # Imported and opened outside the queue's lock: the GUI thread's ``request`` takes that lock while it
        # paints, and the first import (Pillow and its plugins) takes 0.1-0.3 s.
        try:
            from artimuse_desktop.imaging.thumbnails import ThumbnailCache
        except ImportError:
            log.info("imaging.thumbnails is not available; decoding thumbnails without a disk cache")
            cache = None
        else:
            try:
                cache = ThumbnailCache(max_bytes=max_bytes) if max_bytes else ThumbnailCache()
            except TypeError:
                cache = ThumbnailCache()
            except Exception:
                log.exception("cannot open the thumbnail cache")
                cache = None
        with self._lock:
            if self._cache_max_bytes != max_bytes:  # a new budget came meanwhile: the next load opens it
                return cache
            if not self._cache_ready:  # else another pool thread opened it meanwhile
                self._cache, self._cache_ready = cache, True
            return self._cache

    def load(self, request: ImageRequest) -> QImage:
        """Decode one request (pool thread); raises with a readable reason."""
        if request.kind == FULL:
            try:
                from artimuse_desktop.imaging.decode import load_full_rgb
            except ImportError:
                return _decode_with_pillow(request.path, None)
            return pil_to_qimage(load_full_rgb(request.path))
        cache = self._thumbnail_cache()
        if cache is not None and request.fingerprint:
            cached = cache.get(request.fingerprint, request.kind)
            if cached is None:
                if not os.path.exists(request.path):
                    raise FileNotFoundError(f"the file is missing: {request.path}")
                cached = cache.ensure(request.path, request.fingerprint, request.kind, orientation=request.orientation)
            return _read_qimage(str(cached))
        if not os.path.exists(request.path):
            raise FileNotFoundError(f"the file is missing: {request.path}")
        return _decode_with_pillow(request.path, EDGES.get(request.kind, 320))


class PixmapLRU:
    """QPixmaps by key, least recently used dropped first (GUI thread only), bounded in bytes and, where
    ``visible`` tells which rows are on screen, to ``screens`` screenfuls: what is shown plus a few screens of
    scrolling back and forth, whatever the budget would allow.

    A pixmap something else still holds (the loupe's or a compare pane's image) is never dropped: dropping it
    would free nothing, and asking again for what is shown would decode it again. Its bytes still count, so
    what is shown leaves less room for what is merely kept."""

    def __init__(
        self,
        max_bytes: int,
        *,
        visible: Callable[[], tuple[int, int] | None] | None = None,
        screens: int = 4,
    ) -> None:
        self.max_bytes = max_bytes
        self.visible = visible
        self.screens = screens
        self._items: OrderedDict[Any, QPixmap] = OrderedDict()
        self._bytes = 0

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, key: Any) -> QPixmap | None:
        pixmap = self._items.get(key)
        if pixmap is not None:
            self._items.move_to_end(key)
        return pixmap

    def put(self, key: Any, pixmap: QPixmap) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= _pixmap_bytes(old)
        self._items[key] = pixmap
        self._bytes += _pixmap_bytes(pixmap)
        self.trim()

    def trim(self) -> None:
        """Drop the oldest pixmaps nobody else holds while over the byte budget or the screens' worth."""
        shown = self._on_screen()
        most = None if shown is None else max(1, shown) * self.screens
        keep = max(1, shown or 0)  # never below one screenful: its rows are painted right now
        if self._bytes <= self.max_bytes and (most is None or len(self._items) <= most):
            return
        for key in list(self._items):
            if len(self._items) <= keep or (
                self._bytes <= self.max_bytes and (most is None or len(self._items) <= most)
            ):
                break
            pixmap = self._items[key]
            if sys.getrefcount(pixmap) > _HELD_BY_CACHE_ONLY:
                continue  # shown somewhere: dropping it frees nothing
            del self._items[key]
            self._bytes -= _pixmap_bytes(pixmap)

    def _on_screen(self) -> int | None:
        if self.visible is None:
            return None
        rows = self.visible()
        return None if rows is None else rows[1] - rows[0] + 1

    def discard(self, key: Any) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= _pixmap_bytes(old)

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


#: ``sys.getrefcount`` of a pixmap only this cache holds, read in ``trim``: the dict, the local name, the call.
_HELD_BY_CACHE_ONLY = 3


def _pixmap_bytes(pixmap: QPixmap) -> int:
    return max(1, pixmap.width() * pixmap.height() * max(1, pixmap.depth() // 8))
