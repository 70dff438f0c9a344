"""Compare: two to four photos side by side, zoom and pan synchronised, the current scores under each.

Frames of a burst differ in focus and expression more than in framing, so the panes share one zoom state
in image coordinates: checking the eyes at 100 % in one pane shows the same eyes in the others. Culling keys
act on the active pane (outlined); arrows or a click choose it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from artimuse_desktop.catalog.records import PhotoRecord
from artimuse_desktop.gui.image_store import ImageStore
from artimuse_desktop.gui.loupe import ZoomableImage, displayed_size
from artimuse_desktop.gui.theme import set_role
from artimuse_desktop.gui.thumbnail_loader import FULL, PREVIEW

MAX_PANES = 4


def stars_text(rating: int) -> str:
    return "★" * rating + "☆" * (5 - rating) if rating else "no stars"


class ComparePane(QWidget):
    activated = Signal(int)  # photo id

    def __init__(self, images: ImageStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.images = images
        self.record: PhotoRecord | None = None
        self.active = False
        self.image = ZoomableImage(self)
        self.image.click_zooms = False
        self.image.clicked.connect(self._clicked)
        self.title = QLabel()
        set_role(self.title, "title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.details = QLabel()
        self.details.setProperty("role", "muted")
        self.details.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.details.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.image, 1)
        layout.addWidget(self.title)
        layout.addWidget(self.details)

    def show_record(self, record: PhotoRecord) -> None:
        changed = self.record is None or self.record.id != record.id
        self.record = record
        self.title.setText(record.filename)
        flag = {1: "Pick", -1: "Reject"}.get(record.flag, "")
        score = f"Score {record.score:.1f}" if record.score is not None else "Score —"
        model = f" ({record.score_model})" if record.score is not None and record.score_model else ""
        parts = [score + model, stars_text(record.rating)]
        if flag:
            parts.append(flag)
        if record.color_label:
            parts.append(record.color_label)
        self.details.setText("   ·   ".join(parts))
        if changed:
            self.image.set_pixmap(None, displayed_size(record))
            self.image.message = "Loading…"
            self.refresh_image()
            self.images.request(record, PREVIEW)

    def refresh_image(self) -> None:
        if self.record is None:
            return
        pixmap, _ = self.images.best(self.record.id)
        if pixmap is not None:
            self.image.set_pixmap(pixmap, displayed_size(self.record))

    def want_full(self) -> None:
        if self.record is not None and self.images.pixmap(self.record.id, FULL) is None:
            self.images.request(self.record, FULL)

    def set_active(self, active: bool) -> None:
        self.active = active
        self.update()

    def _clicked(self) -> None:
        if self.record is not None:
            self.activated.emit(self.record.id)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if self.active:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(self.palette().brightText().color(), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 4, 4)
        painter.end()


class CompareView(QWidget):
    """Up to four panes; ``active_changed`` tells the window which photo the keys act on."""

    active_changed = Signal(int)

    def __init__(self, images: ImageStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compare")
        self.images = images
        self.panes: list[ComparePane] = []
        self._grid = QGridLayout()
        self._grid.setContentsMargins(6, 6, 6, 6)
        self._grid.setSpacing(6)
        self.hint = QLabel("Select 2–4 photos in the grid and press C to compare them.")
        self.hint.setProperty("role", "muted")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self._grid, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint)
        outer.addLayout(bottom)
        self.key_handler: Callable[[QKeyEvent], bool] | None = None
        self._active = 0
        self._syncing = False
        images.updated.connect(self._image_updated)

    def photo_ids(self) -> list[int]:
        return [p.record.id for p in self.panes if p.record is not None]

    def active_id(self) -> int | None:
        if 0 <= self._active < len(self.panes) and self.panes[self._active].record is not None:
            record = self.panes[self._active].record
            return record.id if record is not None else None
        return None

    def set_records(self, records: Sequence[PhotoRecord], active_id: int | None = None) -> None:
        records = list(records)[:MAX_PANES]
        same = [r.id for r in records] == self.photo_ids()
        if not same:
            for pane in self.panes:
                self._grid.removeWidget(pane)
                pane.deleteLater()
            self.panes = []
            columns = 2 if len(records) == 4 else max(1, len(records))
            for i in range(len(records)):
                pane = ComparePane(self.images, self)
                pane.image.view_changed.connect(self._make_sync(pane))
                pane.activated.connect(self.set_active_id)
                self._grid.addWidget(pane, i // columns, i % columns)
                self.panes.append(pane)
        for pane, record in zip(self.panes, records, strict=True):
            pane.show_record(record)
        self.hint.setVisible(len(records) < 2)
        ids = [r.id for r in records]
        self._active = ids.index(active_id) if active_id in ids else min(self._active, max(0, len(ids) - 1))
        if not same:
            self._active = ids.index(active_id) if active_id in ids else 0
        self._mark_active()

    def update_record(self, record: PhotoRecord) -> None:
        for pane in self.panes:
            if pane.record is not None and pane.record.id == record.id:
                pane.show_record(record)

    def set_active_id(self, photo_id: int) -> None:
        for i, pane in enumerate(self.panes):
            if pane.record is not None and pane.record.id == photo_id:
                self._active = i
        self._mark_active()

    def _mark_active(self) -> None:
        for i, pane in enumerate(self.panes):
            pane.set_active(i == self._active)
        active = self.active_id()
        if active is not None:
            self.active_changed.emit(active)

    def move_active(self, step: int) -> None:
        if self.panes:
            self._active = (self._active + step) % len(self.panes)
            self._mark_active()

    def zoom(self, at: QPointF | None = None) -> None:
        """Z: toggle 100 % in every pane around the active pane's clicked point."""
        if not self.panes:
            return
        self.panes[max(0, min(self._active, len(self.panes) - 1))].image.toggle_zoom(at)

    def _make_sync(self, source: ComparePane) -> Callable[[bool, float, float], None]:
        def sync(zoomed: bool, cx: float, cy: float) -> None:
            if self._syncing:
                return
            self._syncing = True
            try:
                for pane in self.panes:
                    if pane is not source:
                        pane.image.set_view(zoomed, cx, cy)
                    if zoomed:
                        pane.want_full()
            finally:
                self._syncing = False

        return sync

    def _image_updated(self, photo_id: int, kind: str) -> None:
        for pane in self.panes:
            if pane.record is not None and pane.record.id == photo_id:
                pane.refresh_image()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Z and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom()
            return
        if self.key_handler is not None and self.key_handler(event):
            return
        if event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Tab):
            self.move_active(1)
            return
        if event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Up, Qt.Key.Key_Backtab):
            self.move_active(-1)
            return
        super().keyPressEvent(event)
