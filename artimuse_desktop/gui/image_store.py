"""Previews and full-resolution images for the loupe, compare and side panel, cached as pixmaps.

One place asks the loader and keeps the results, so the side panel and the loupe showing the same photo decode
it once, and flipping back and forth between neighbours does not decode again. Full-resolution images are
large (a 45 MP photo is 180 MB as a pixmap): what the loupe or a compare pane shows is always kept (they hold
it; ``PixmapLRU`` never drops what something else holds), and of the rest only ``FULL_BYTES`` in all, with
previews within ``PREVIEW_BYTES`` (issue 14: the window's whole memory should stay within 500 MB).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPixmap

from artimuse_desktop.catalog.records import PhotoRecord
from artimuse_desktop.gui.grid_model import PhotoGridModel
from artimuse_desktop.gui.thumbnail_loader import FULL, GRID, PREVIEW, ImageLoader, ImageRequest, PixmapLRU

#: Previews (1600 px: 7-10 MB each) kept for flipping back and forth; the side panel shows one at a time.
PREVIEW_BYTES = 96 * 1024 * 1024
#: Full-resolution images, counting the ones shown (always kept): room for one or two more, to go back to the last
#: photo at 100 % without decoding it again.
FULL_BYTES = 256 * 1024 * 1024


class ImageStore(QObject):
    """``updated(photo_id, kind)`` fires when a better image of a photo is ready."""

    updated = Signal(int, str)
    failed = Signal(int, str, str)

    def __init__(
        self, loader: ImageLoader, grid_model: PhotoGridModel | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.loader = loader
        self.grid_model = grid_model
        self._previews = PixmapLRU(PREVIEW_BYTES)
        self._full = PixmapLRU(FULL_BYTES)
        self._failures: dict[tuple[int, str], str] = {}
        loader.loaded.connect(self._loaded)
        loader.failed.connect(self._failed)

    def best(self, photo_id: int) -> tuple[QPixmap | None, str | None]:
        """The best image we have now, and its kind."""
        full = self._full.get(photo_id)
        if full is not None:
            return full, FULL
        preview = self._previews.get(photo_id)
        if preview is not None:
            return preview, PREVIEW
        if self.grid_model is not None:
            thumb = self.grid_model.pixmap(photo_id)
            if thumb is not None:
                return thumb, GRID
        return None, None

    def pixmap(self, photo_id: int, kind: str) -> QPixmap | None:
        if kind == FULL:
            return self._full.get(photo_id)
        if kind == PREVIEW:
            return self._previews.get(photo_id)
        return self.grid_model.pixmap(photo_id) if self.grid_model is not None else None

    def failure(self, photo_id: int, kind: str) -> str | None:
        return self._failures.get((photo_id, kind))

    def request(self, record: PhotoRecord, kind: str = PREVIEW) -> None:
        if self.pixmap(record.id, kind) is not None or (record.id, kind) in self._failures:
            return
        if kind == GRID and self.grid_model is not None:
            return  # the grid model asks for its own thumbnails as it paints
        self.loader.request(
            ImageRequest(record.id, kind, record.path, record.fingerprint, record.orientation), urgent=True
        )

    def forget(self, photo_id: int | None = None) -> None:
        if photo_id is None:
            self._previews.clear()
            self._full.clear()
            self._failures.clear()
            return
        self._previews.discard(photo_id)
        self._full.discard(photo_id)
        for kind in (PREVIEW, FULL):
            self._failures.pop((photo_id, kind), None)

    def _loaded(self, photo_id: int, kind: str, image: QImage) -> None:
        if kind == PREVIEW:
            self._previews.put(photo_id, QPixmap.fromImage(image))
        elif kind == FULL:
            self._full.put(photo_id, QPixmap.fromImage(image))
        self.updated.emit(photo_id, kind)

    def _failed(self, photo_id: int, kind: str, reason: str) -> None:
        if kind in (PREVIEW, FULL):
            self._failures[(photo_id, kind)] = reason
            self.failed.emit(photo_id, kind, reason)
