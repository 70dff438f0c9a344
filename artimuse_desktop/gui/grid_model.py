"""The grid's model: the ordered photo ids of the current view, with records fetched page by page.

The id array (``IdList``: 8 bytes per photo) is all the model holds for 300,000 photos; a record is read only
when its row is painted, in pages of ``PAGE`` rows kept in a small LRU, and a thumbnail is requested only then
too. Pixmaps are made here, on the GUI thread, from the ``QImage``s the loader decodes elsewhere.

Why a ``QStandardItemModel`` with no items: Qt's list view asks ``model->index(row)`` for every row when it
lays out (and ``QAbstractListModel::index`` asks ``rowCount``); a ``rowCount`` written in Python is then
called 300,000 times per layout (0.8 s). ``QStandardItemModel`` keeps the row count in C++
(``setRowCount``: one null pointer per row, no item is ever created) so layout, selection and index look-ups
never enter Python; only ``data`` and ``flags``, asked for the cells on screen, are Python. Changes that touch
many rows repaint the rows on screen (``visible_rows``) instead of announcing every row.

A view change first shows a *partial* id list (the first screens and the row count, ``IdList.partial``);
``complete_ids`` swaps the whole list in when it arrives, with no reset (scroll position, selection and current
photo stay). A page painted before then whose ids are not known yet is read by offset (``page_ids``).

A decision (``refresh_ids``) marks the cached pages holding those photos stale: the cells keep painting the
old record until the page is read again off the GUI thread (no blank flash, no SQL on the GUI thread), while
``record_for_id`` and ``record`` never answer from a stale page.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from html import escape
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QImage, QPixmap, QStandardItemModel

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.queries import records_by_ids
from artimuse_desktop.catalog.records import PhotoRecord
from artimuse_desktop.formatting import camera_name
from artimuse_desktop.gui.id_list import IdList
from artimuse_desktop.gui.record_pages import RecordPages
from artimuse_desktop.gui.score_help import TECHNICAL, by_text, score_tooltip
from artimuse_desktop.gui.thumbnail_loader import GRID, ImageLoader, ImageRequest, PixmapLRU

RECORD_ROLE = int(Qt.ItemDataRole.UserRole) + 1
PIXMAP_ROLE = int(Qt.ItemDataRole.UserRole) + 2
BURST_COUNT_ROLE = int(Qt.ItemDataRole.UserRole) + 3  # frames in the burst, on its best frame
BURST_MEMBER_ROLE = int(Qt.ItemDataRole.UserRole) + 4  # True on a burst's other frames
ID_ROLE = int(Qt.ItemDataRole.UserRole) + 5
FAILED_ROLE = int(Qt.ItemDataRole.UserRole) + 6  # why the thumbnail could not be made

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex
#: ``page_ids(offset, limit)``: the view's ids of those rows (run on a worker, before the whole list is known);
#: None: the rows wait for the whole list (reading them alone would cost about as much)
PageIds = Callable[[int, int], list[int] | None]
#: ``submit(fn, done, failed)``: run ``fn`` on a worker, then ``done(result)`` or ``failed(text)`` on the GUI thread
Submit = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[str], None]], object]


class PhotoGridModel(QStandardItemModel):
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
        submit: Submit | None = None,
    ) -> None:
        """``submit`` reads the pages to paint off the GUI thread (the window passes its ``TaskRunner``);
        without it, pages are read on the GUI thread when painted."""
        super().__init__(parent)
        self.catalog = catalog
        self.loader = loader
        self.setColumnCount(1)
        self._ids = IdList()
        self._page_ids: PageIds | None = None
        #: (first, last) rows on screen, set by the view; None: every row may be visible
        self.visible_rows: Callable[[], tuple[int, int] | None] | None = None
        self._submit = submit
        self._wanted: OrderedDict[int, None] = OrderedDict()  # pages to read for painting, newest last
        self._page_in_flight: int | None = None
        self._generation = 0  # bumped by set_ids and refresh_all: older page answers are dropped
        self._pages = RecordPages(self.MAX_PAGES)
        self._score_model: str | None = None
        self._pixmaps = PixmapLRU(pixmap_budget, visible=lambda: self.visible_rows() if self.visible_rows else None)
        self._failures: dict[int, str] = {}
        self._burst_counts: Mapping[int, int] = {}
        self._burst_members: frozenset[int] = frozenset()
        self._model_versions: dict[str, list[str]] = {}  # for the tooltips: which version gave a score
        loader.loaded.connect(self._on_loaded)
        loader.failed.connect(self._on_failed)

    # ------------------------------------------------------------------ ids

    def set_ids(
        self, ids: Sequence[int] | IdList, score_model: str | None = None, page_ids: PageIds | None = None
    ) -> None:
        """Show these photos, in this order (pixmaps stay cached; records are read again). A partial list
        needs ``page_ids`` to read the rows it does not know yet when they are painted."""
        self.beginResetModel()
        self._ids = ids if isinstance(ids, IdList) else IdList(ids)
        self._page_ids = page_ids
        self._pages.clear()
        self._wanted.clear()
        self._generation += 1
        if score_model is not None:
            self._score_model = score_model
        with QSignalBlocker(self):  # inside a reset: no per-row insert/remove signals
            self.setRowCount(len(self._ids))
        self.loader.forget_queued()
        self.endResetModel()

    def complete_ids(self, full: IdList) -> bool:
        """The whole list of the partial one shown: swapped in without a reset when it agrees with every row
        known (True); False when the view changed meanwhile (the caller shows it with ``set_ids``)."""
        if self._ids.complete or not self._ids.agrees_with(full):
            return False
        self._ids = full
        self._page_ids = None
        self.repaint_visible()  # rows painted as placeholders get their records
        return True

    def ids(self) -> list[int]:
        return self._ids.tolist()

    def id_list(self) -> IdList:
        """The shown ids (the array itself: no copy)."""
        return self._ids

    def count(self) -> int:
        return len(self._ids)

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
        return self._ids.at(row)

    def row_of(self, photo_id: int) -> int | None:
        return self._ids.row_of(photo_id)

    def index_of(self, photo_id: int) -> QModelIndex:
        row = self.row_of(photo_id)
        return self.index(row, 0) if row is not None else QModelIndex()

    # ------------------------------------------------------------------ records

    def painted_record(self, row: int) -> PhotoRecord | None:
        """The record to paint, or None while its page is read in the background (the cell repaints when the
        page arrives). Without a background reader, the page is read here."""
        if not 0 <= row < len(self._ids):
            return None
        page_no = row // self.PAGE
        page = self._pages.use(page_no)
        if page is not None:
            if self._pages.is_stale(page_no):  # painted as it was until read again
                self._want_page(page_no)
            return page.get(self._ids.at(row) or 0)
        if self._submit is None:
            return self.record(row)
        self._want_page(page_no)
        return None

    def _want_page(self, page_no: int) -> None:
        self._wanted.pop(page_no, None)
        self._wanted[page_no] = None  # newest last
        if self._page_in_flight is None:
            self._next_page()

    def _next_page(self) -> None:
        """Fetch the newest wanted page still on screen (pages scrolled past are dropped unread)."""
        shown = self.visible_rows() if self.visible_rows is not None else None
        while self._wanted and self._submit is not None:
            page_no, _ = self._wanted.popitem(last=True)
            first, last = page_no * self.PAGE, (page_no + 1) * self.PAGE - 1
            if self._pages.is_fresh(page_no) or (shown is not None and (last < shown[0] or first > shown[1])):
                continue
            self._page_in_flight = page_no
            self._read_page(self._submit, page_no)
            return
        self._wanted.clear()

    def _read_page(self, submit: Submit, page_no: int) -> None:
        start, stop = page_no * self.PAGE, min(len(self._ids), (page_no + 1) * self.PAGE)
        known = self._ids.known(start, stop)
        chunk = self._ids.slice(start, stop) if known else []
        page_ids = None if known else self._page_ids
        catalog, model, generation = self.catalog, self._score_model, self._generation
        stamp = self._pages.stamp(page_no)

        def read() -> tuple[list[int] | None, list[PhotoRecord]]:
            ids = page_ids(start, stop - start) if page_ids is not None else None
            with catalog.read() as session:
                return ids, records_by_ids(session, chunk if ids is None else ids, score_model=model)

        def done(answer: tuple[list[int] | None, list[PhotoRecord]]) -> None:
            ids, records = answer
            if ids is not None and generation == self._generation:
                self._ids.fill(start, ids)
            if not known and ids is None:  # nothing to read the rows by: they wait for the whole list
                self._page_in_flight = None
                self._next_page()
                return
            self._page_read(page_no, generation, records, stamp)

        def failed(text: str) -> None:  # the cells stay blank; the next paint asks again
            log.warning("cannot read grid page %d: %s", page_no, text)
            self._page_in_flight = None

        submit(read, done, failed)

    def _page_read(self, page_no: int, generation: int, records: list[PhotoRecord], stamp: int | None) -> None:
        self._page_in_flight = None
        if generation == self._generation and not self._pages.is_fresh(page_no):
            self._store_page(page_no, {r.id: r for r in records}, stamp)
            first = page_no * self.PAGE
            last = min(len(self._ids), first + self.PAGE) - 1
            shown = self.visible_rows() if self.visible_rows is not None else None
            if shown is not None:
                first, last = max(first, shown[0]), min(last, shown[1])
            if first <= last:
                self.dataChanged.emit(self.index(first, 0), self.index(last, 0))
        self._next_page()

    def record(self, row: int) -> PhotoRecord | None:
        if not 0 <= row < len(self._ids):
            return None
        page_no = row // self.PAGE
        page = self._pages.use(page_no) if self._pages.is_fresh(page_no) else None
        if page is None:
            page = self._fetch_page(page_no)
        return page.get(self._ids.at(row) or 0)

    def record_for_id(self, photo_id: int) -> PhotoRecord | None:
        """This photo's record: from a cached page, else read alone (one row, not the 200 of its page)."""
        cached = self.cached_record(photo_id)
        if cached is not None:
            return cached
        with self.catalog.read() as session:
            found = records_by_ids(session, [photo_id], score_model=self._score_model)
        return found[0] if found else None

    def cached_record(self, photo_id: int) -> PhotoRecord | None:
        """This photo's record if a page read for painting holds it, up to date (never a read on the GUI
        thread)."""
        row = self.row_of(photo_id)
        return self._pages.record(row // self.PAGE, photo_id) if row is not None else None

    def _fetch_page(self, page_no: int) -> dict[int, PhotoRecord]:
        start, stop = page_no * self.PAGE, (page_no + 1) * self.PAGE
        if not self._ids.known(start, stop):  # read by offset when painted, or when the whole list comes
            return {}
        chunk = self._ids.slice(start, stop)
        stamp = self._pages.stamp(page_no)
        with self.catalog.read() as session:
            page = {r.id: r for r in records_by_ids(session, chunk, score_model=self._score_model)}
        self._store_page(page_no, page, stamp)
        return page

    def _store_page(self, page_no: int, page: dict[int, PhotoRecord], stamp: int | None = None) -> None:
        self._pages.store(page_no, page, stamp)
        self.records_fetched.emit(len(page))

    def refresh_ids(self, photo_ids: Iterable[int]) -> None:
        """These photos changed (a decision): their cached pages are read again, off the GUI thread when the
        model has a reader (cells keep their old record until then), and repainted. O(cached pages), whatever
        the number of photos."""
        wanted, stale = self._pages.holding(photo_ids)
        if not stale:
            return
        if self._submit is None:  # no reader: read them here, as painting does
            for page_no in stale:
                self._pages.drop(page_no)
                self._fetch_page(page_no)
            self.repaint_visible()
            return
        shown = self.visible_rows() if self.visible_rows is not None else None
        on_screen = []
        for page_no in stale:
            first, last = page_no * self.PAGE, (page_no + 1) * self.PAGE - 1
            if shown is not None and (last < shown[0] or first > shown[1]):
                self._pages.drop(page_no)  # off screen: read again when painted
            else:
                on_screen.append(page_no)
        self._pages.mark_stale(on_screen, wanted)
        for page_no in on_screen:
            self._want_page(page_no)

    def refresh_all(self) -> None:
        """Every record may have changed (scores were written): the pages on screen are read again off the GUI
        thread and paint their old records until then (no blank grid after each scoring batch); the others
        are dropped."""
        self._generation += 1  # a page being read now may hold the old scores: its answer is dropped
        self.refresh_ids(self._pages.held_ids())

    def repaint_visible(self) -> None:
        """Every row may have changed: say so for the rows on screen (the rest are read when painted)."""
        if not len(self._ids):
            return
        shown = self.visible_rows() if self.visible_rows is not None else None
        first, last = shown if shown is not None else (0, len(self._ids) - 1)
        first, last = max(0, first), min(len(self._ids) - 1, last)
        if first <= last:
            self.dataChanged.emit(self.index(first, 0), self.index(last, 0))

    # ------------------------------------------------------------------ bursts and thumbnails

    def set_bursts(self, counts: Mapping[int, int], members: AbstractSet[int]) -> None:
        """``counts``: best frame id -> frames in its burst; ``members``: the other frames' ids (both built on
        the worker that found the bursts and never changed after: kept, not copied)."""
        self._burst_counts = counts if isinstance(counts, dict) else dict(counts)
        self._burst_members = frozenset(members)  # no copy when it is one already
        self.repaint_visible()

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
