"""The grid's model: the ordered photo ids of the current view, with records fetched page by page.

The id list (one int per photo) is all the model holds for 100,000 photos; a record is read only when its row
is painted, in pages of ``PAGE`` rows kept in a small LRU, and a thumbnail is requested only then too. Pixmaps
are made here, on the GUI thread, from the ``QImage``s the loader decodes elsewhere.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.queries import records_by_ids
from artimuse_desktop.catalog.records import PhotoRecord
from artimuse_desktop.formatting import camera_name
from artimuse_desktop.gui.score_help import TECHNICAL, by_text, score_tooltip
from artimuse_desktop.gui.thumbnail_loader import GRID, ImageLoader, ImageRequest, PixmapLRU

RECORD_ROLE = int(Qt.ItemDataRole.UserRole) + 1
PIXMAP_ROLE = int(Qt.ItemDataRole.UserRole) + 2
BURST_COUNT_ROLE = int(Qt.ItemDataRole.UserRole) + 3  # frames in the burst, on its best frame
BURST_MEMBER_ROLE = int(Qt.ItemDataRole.UserRole) + 4  # True on a burst's other frames
ID_ROLE = int(Qt.ItemDataRole.UserRole) + 5
FAILED_ROLE = int(Qt.ItemDataRole.UserRole) + 6  # why the thumbnail could not be made

_Index = QModelIndex | QPersistentModelIndex


class PhotoGridModel(QAbstractListModel):
    """A list model over photo ids; see the module docstring for what is cached and why."""

    PAGE = 200
    MAX_PAGES = 40
    records_fetched = Signal(int)  # how many records one page fetch read (tests and diagnostics)

    def __init__(
        self,
        catalog: Catalog,
        loader: ImageLoader,
        parent: QObject | None = None,
        *,
        pixmap_budget: int = 192 * 1024 * 1024,
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.loader = loader
        self._ids: list[int] = []
        self._row_of: dict[int, int] | None = None
        self._pages: OrderedDict[int, dict[int, PhotoRecord]] = OrderedDict()
        self._score_model: str | None = None
        self._pixmaps = PixmapLRU(pixmap_budget)
        self._failures: dict[int, str] = {}
        self._burst_counts: dict[int, int] = {}
        self._burst_members: set[int] = set()
        self._model_versions: dict[str, list[str]] = {}  # for the tooltips: which version gave a score
        loader.loaded.connect(self._on_loaded)
        loader.failed.connect(self._on_failed)

    # ------------------------------------------------------------------ ids

    def set_ids(self, ids: Sequence[int], score_model: str | None = None) -> None:
        """Show these photos, in this order (pixmaps stay cached; records are read again)."""
        self.beginResetModel()
        self._ids = list(ids)
        self._row_of = None
        self._pages.clear()
        if score_model is not None:
            self._score_model = score_model
        self.loader.forget_queued()
        self.endResetModel()

    def ids(self) -> list[int]:
        return list(self._ids)

    @property
    def score_model(self) -> str | None:
        return self._score_model

    def set_model_versions(self, versions: dict[str, list[str]]) -> None:
        """Each model's current versions (from the library stats), named in the score tooltips."""
        self._model_versions = dict(versions)

    def score_tooltip(self, record: PhotoRecord) -> str:
        """What the photo's shown score is: which model and version gave it, its scale, absent means unscored."""
        model = record.score_model or self._score_model or TECHNICAL
        return score_tooltip(record.score, model, self._model_versions.get(model, ()), record.error)

    def id_at(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, photo_id: int) -> int | None:
        if self._row_of is None:
            self._row_of = {pid: row for row, pid in enumerate(self._ids)}
        return self._row_of.get(photo_id)

    def index_of(self, photo_id: int) -> QModelIndex:
        row = self.row_of(photo_id)
        return self.index(row, 0) if row is not None else QModelIndex()

    # ------------------------------------------------------------------ records

    def record(self, row: int) -> PhotoRecord | None:
        if not 0 <= row < len(self._ids):
            return None
        page_no = row // self.PAGE
        page = self._pages.get(page_no)
        if page is None:
            page = self._fetch_page(page_no)
        else:
            self._pages.move_to_end(page_no)
        return page.get(self._ids[row])

    def record_for_id(self, photo_id: int) -> PhotoRecord | None:
        row = self.row_of(photo_id)
        if row is not None:
            return self.record(row)
        with self.catalog.read() as session:
            found = records_by_ids(session, [photo_id], score_model=self._score_model)
        return found[0] if found else None

    def _fetch_page(self, page_no: int) -> dict[int, PhotoRecord]:
        chunk = self._ids[page_no * self.PAGE : (page_no + 1) * self.PAGE]
        with self.catalog.read() as session:
            page = {r.id: r for r in records_by_ids(session, chunk, score_model=self._score_model)}
        self._pages[page_no] = page
        while len(self._pages) > self.MAX_PAGES:
            self._pages.popitem(last=False)
        self.records_fetched.emit(len(page))
        return page

    def refresh_ids(self, photo_ids: Iterable[int]) -> None:
        """Re-read these photos' records (after a decision) and repaint their cells."""
        wanted = {pid for pid in photo_ids}
        loaded = {pid: page_no for page_no, page in self._pages.items() for pid in page if pid in wanted}
        if loaded:
            with self.catalog.read() as session:
                fresh = records_by_ids(session, list(loaded), score_model=self._score_model)
            for record in fresh:
                self._pages[loaded[record.id]][record.id] = record
        if len(wanted) > 256 and self._ids:  # one signal for a big batch instead of one per photo
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, 0))
            return
        for pid in wanted:
            row = self.row_of(pid)
            if row is not None:
                index = self.index(row, 0)
                self.dataChanged.emit(index, index)

    def refresh_all(self) -> None:
        """Drop every cached record (scores changed): visible rows are re-read when next painted."""
        self._pages.clear()
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, 0))

    # ------------------------------------------------------------------ bursts and thumbnails

    def set_bursts(self, counts: dict[int, int], members: set[int]) -> None:
        """``counts``: best frame id -> frames in its burst; ``members``: the other frames' ids."""
        self._burst_counts = dict(counts)
        self._burst_members = set(members)
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, 0))

    def burst_count(self, photo_id: int) -> int:
        return self._burst_counts.get(photo_id, 0)

    def pixmap(self, photo_id: int) -> QPixmap | None:
        return self._pixmaps.get(photo_id)

    def thumbnail(self, record: PhotoRecord) -> QPixmap | None:
        """The cached thumbnail, or None after asking the loader for it (painting calls this)."""
        pixmap = self._pixmaps.get(record.id)
        if pixmap is None:
            self._request_thumbnail(record)
        return pixmap

    def failure(self, photo_id: int) -> str | None:
        return self._failures.get(photo_id)

    def is_burst_member(self, photo_id: int) -> bool:
        return photo_id in self._burst_members

    def forget_thumbnails(self, photo_ids: Iterable[int] | None = None) -> None:
        """Forget pixmaps and failures (after re-indexing changed files)."""
        if photo_ids is None:
            self._pixmaps.clear()
            self._failures.clear()
            return
        for pid in photo_ids:
            self._pixmaps.discard(pid)
            self._failures.pop(pid, None)

    def _request_thumbnail(self, record: PhotoRecord) -> None:
        if record.id in self._failures or record.id in self._pixmaps:
            return
        self.loader.request(ImageRequest(record.id, GRID, record.path, record.fingerprint, record.orientation))

    def _on_loaded(self, photo_id: int, kind: str, image: QImage) -> None:
        if kind != GRID:
            return
        self._pixmaps.put(photo_id, QPixmap.fromImage(image))
        self._failures.pop(photo_id, None)
        self._changed(photo_id)

    def _on_failed(self, photo_id: int, kind: str, reason: str) -> None:
        if kind != GRID:
            return
        self._failures[photo_id] = reason
        self._changed(photo_id)

    def _changed(self, photo_id: int) -> None:
        row = self.row_of(photo_id)
        if row is not None:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index, [PIXMAP_ROLE, FAILED_ROLE])

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = index.row()
        if role == ID_ROLE:
            return self.id_at(row)
        if role == BURST_COUNT_ROLE:
            pid = self.id_at(row)
            return self._burst_counts.get(pid, 0) if pid is not None else 0
        if role == BURST_MEMBER_ROLE:
            return self.id_at(row) in self._burst_members
        record = self.record(row)
        if record is None:
            return None
        if role == RECORD_ROLE:
            return record
        if role == PIXMAP_ROLE:
            pixmap = self._pixmaps.get(record.id)
            if pixmap is None:
                self._request_thumbnail(record)
            return pixmap
        if role == FAILED_ROLE:
            return self._failures.get(record.id)
        if role == Qt.ItemDataRole.DisplayRole:
            return record.filename
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._cell_tooltip(record)
        return None

    def _cell_tooltip(self, record: PhotoRecord) -> str:
        """The cell's tooltip: path, camera, score and its model, why the file failed (the badge has its own)."""
        lines = [escape(record.path)]
        camera = camera_name(record.camera_make, record.camera_model)
        if camera:
            lines.append(escape(camera))
        model = record.score_model or self._score_model or TECHNICAL
        by = escape(by_text(model, self._model_versions.get(model, ())))
        if record.score is not None:
            lines.append(f"Score {record.score:.1f} by {by}")
        elif not record.error:
            lines.append(f"Not scored by {by} yet")
        failure = self._failures.get(record.id)
        if record.error:
            lines.append(f"Error: {escape(record.error)}")
        elif failure:
            lines.append(f"No thumbnail: {escape(failure)}")
        return "<p>" + "<br>".join(lines) + "</p>"
