"""The loupe: one photo large, fit to the window or at 100 % (one image pixel per screen pixel) with panning.

The preview (about 1600 px) shows at once; zooming to 100 % asks for the full-resolution decode and shows the
preview enlarged until it arrives, so focus can be checked without waiting on a blank screen. Zoom and pan are
kept as a centre point in image coordinates (0–1), which is what compare synchronises between photos of
different sizes.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from artimuse_desktop.catalog.records import PhotoRecord
from artimuse_desktop.gui.badges import draw_flag, draw_stars
from artimuse_desktop.gui.image_store import ImageStore
from artimuse_desktop.gui.thumbnail_loader import FULL, PREVIEW

DRAG_THRESHOLD = 4


def displayed_size(record: PhotoRecord | None) -> QSize | None:
    """The photo's pixel size as shown (width and height swap for rotated orientations)."""
    if record is None or not record.width or not record.height:
        return None
    if record.orientation in (5, 6, 7, 8):
        return QSize(record.height, record.width)
    return QSize(record.width, record.height)


class ZoomableImage(QWidget):
    """Fit or 100 % view of one image with drag-to-pan; click (or Z) toggles zoom at the clicked point."""

    view_changed = Signal(bool, float, float)  # zoomed, centre x, centre y (0–1 of the image)
    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAutoFillBackground(False)
        self._pixmap: QPixmap | None = None
        self._size = QSize()
        self._zoomed = False
        self._center = QPointF(0.5, 0.5)
        self._press: QPointF | None = None
        self._press_center = QPointF(0.5, 0.5)
        self._dragged = False
        self._anchor: QPointF | None = None  # last clicked point, image coordinates
        self.message = ""
        self.click_zooms = True
        self.background: QColor | None = None  # None: the palette's darkest neutral (follows the theme)

    # ------------------------------------------------------------------ content

    def set_pixmap(self, pixmap: QPixmap | None, full_size: QSize | None = None) -> None:
        self._pixmap = pixmap if pixmap is not None and not pixmap.isNull() else None
        if full_size is not None and full_size.isValid():
            self._size = QSize(full_size)
        elif self._pixmap is not None:
            self._size = self._pixmap.size()
        self.update()

    def pixmap(self) -> QPixmap | None:
        return self._pixmap

    def image_size(self) -> QSize:
        return QSize(self._size)

    def reset_view(self) -> None:
        self._zoomed = False
        self._center = QPointF(0.5, 0.5)
        self._anchor = None
        self.update()

    # ------------------------------------------------------------------ zoom state

    def is_zoomed(self) -> bool:
        return self._zoomed

    def center(self) -> QPointF:
        return QPointF(self._center)

    def set_view(self, zoomed: bool, cx: float, cy: float) -> None:
        """Apply a view from elsewhere (compare) without emitting ``view_changed``."""
        self._zoomed = zoomed
        self._center = QPointF(min(1.0, max(0.0, cx)), min(1.0, max(0.0, cy)))
        self._clamp()
        self.update()

    def toggle_zoom(self, at: QPointF | None = None) -> None:
        """Fit ↔ 100 %; zooming in centres on ``at`` (widget point), else on the last clicked point."""
        if self._zoomed:
            self._zoomed = False
        else:
            point = self.image_point(at) if at is not None else self._anchor
            self._zoomed = True
            self._center = point if point is not None else QPointF(0.5, 0.5)
            self._clamp()
        self.update()
        self.view_changed.emit(self._zoomed, self._center.x(), self._center.y())

    def scale(self) -> float:
        """Screen pixels per image pixel."""
        if self._size.isEmpty():
            return 1.0
        if self._zoomed:
            return 1.0 / max(1.0, self.devicePixelRatioF())
        return min(self.width() / self._size.width(), self.height() / self._size.height(), 1.0)

    def image_rect(self) -> QRectF:
        """Where the whole image lies in widget coordinates (mostly outside the widget at 100 %)."""
        if self._size.isEmpty():
            return QRectF()
        scale = self.scale()
        w, h = self._size.width() * scale, self._size.height() * scale
        if not self._zoomed:
            return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        left = self.width() / 2 - self._center.x() * w
        top = self.height() / 2 - self._center.y() * h
        return QRectF(left, top, w, h)

    def image_point(self, widget_point: QPointF) -> QPointF | None:
        rect = self.image_rect()
        if rect.isEmpty():
            return None
        return QPointF(
            min(1.0, max(0.0, (widget_point.x() - rect.left()) / rect.width())),
            min(1.0, max(0.0, (widget_point.y() - rect.top()) / rect.height())),
        )

    def _clamp(self) -> None:
        """Keep the image covering the view when it is larger than the view."""
        if not self._zoomed or self._size.isEmpty():
            return
        scale = self.scale()
        w, h = self._size.width() * scale, self._size.height() * scale
        cx, cy = self._center.x(), self._center.y()
        if w > self.width():
            half = self.width() / 2 / w
            cx = min(1 - half, max(half, cx))
        else:
            cx = 0.5
        if h > self.height():
            half = self.height() / 2 / h
            cy = min(1 - half, max(half, cy))
        else:
            cy = 0.5
        self._center = QPointF(cx, cy)

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        surround = self.background or self.palette().color(QPalette.ColorRole.Dark)
        painter.fillRect(self.rect(), surround)
        rect = self.image_rect()
        if self._pixmap is not None and not rect.isEmpty():
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            visible = rect.intersected(QRectF(self.rect()))
            if not visible.isEmpty():
                sx = self._pixmap.width() / rect.width()
                sy = self._pixmap.height() / rect.height()
                source = QRectF(
                    (visible.left() - rect.left()) * sx,
                    (visible.top() - rect.top()) * sy,
                    visible.width() * sx,
                    visible.height() * sy,
                )
                painter.drawPixmap(visible, self._pixmap, source)
        elif self.message:
            painter.setPen(QColor("#9a9a9a"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
        self.paint_overlay(painter)
        painter.end()

    def paint_overlay(self, painter: QPainter) -> None:
        """Hook for subclasses (the loupe's info bar)."""

    # ------------------------------------------------------------------ mouse

    def resizeEvent(self, event: object) -> None:
        self._clamp()
        super().resizeEvent(event)  # type: ignore[arg-type]

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position()
            self._press_center = QPointF(self._center)
            self._dragged = False
            self._anchor = self.image_point(event.position())
            self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or not self._zoomed:
            return
        delta = event.position() - self._press
        if not self._dragged and abs(delta.x()) + abs(delta.y()) < DRAG_THRESHOLD:
            return
        self._dragged = True
        self.setCursor(Qt.CursorShape.ClosedHandCursor)
        rect = self.image_rect()
        self._center = QPointF(
            self._press_center.x() - delta.x() / max(1.0, rect.width()),
            self._press_center.y() - delta.y() / max(1.0, rect.height()),
        )
        self._clamp()
        self.update()
        self.view_changed.emit(self._zoomed, self._center.x(), self._center.y())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return
        self.unsetCursor()
        clicked = not self._dragged
        point = self._press
        self._press = None
        if clicked:
            self.clicked.emit()
            if self.click_zooms:
                self.toggle_zoom(point)


class LoupeImage(ZoomableImage):
    """The loupe's image with an information bar: file, score, flag, stars and zoom level."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.record: PhotoRecord | None = None
        self.position_text = ""
        self.loading_full = False

    def paint_overlay(self, painter: QPainter) -> None:
        record = self.record
        if record is None:
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        painter.setFont(font)
        metrics = QFontMetrics(font)
        height = metrics.height() + 12
        bar = QRectF(0, self.height() - height, self.width(), height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRect(bar)
        x = bar.left() + 12
        painter.setPen(QColor("#f0f0f0"))
        parts = [record.filename]
        if record.score is not None:
            parts.append(f"Score {record.score:.1f}  ({record.score_model})")
        else:
            parts.append("not scored")
        if self.position_text:
            parts.append(self.position_text)
        text = "   ·   ".join(parts)
        painter.drawText(
            QRectF(x, bar.top(), bar.width() * 0.6, bar.height()),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            text,
        )
        right = bar.right() - 12
        zoom = "100 %" if self.is_zoomed() else "Fit"
        if self.is_zoomed() and self.loading_full:
            zoom += " (loading full resolution…)"
        zoom_width = metrics.horizontalAdvance(zoom)
        painter.drawText(
            QRectF(right - zoom_width, bar.top(), zoom_width, bar.height()),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            zoom,
        )
        right -= zoom_width + 16
        flag_size = 18.0
        if record.flag:
            draw_flag(
                painter,
                QRectF(right - flag_size, bar.center().y() - flag_size / 2, flag_size, flag_size),
                record.flag,
            )
            right -= flag_size + 10
        star = 12.0
        stars_width = 5 * star * 1.15
        draw_stars(
            painter,
            QPointF(right - stars_width, bar.center().y() - star / 2),
            record.rating,
            star,
            QColor("#f0f0f0"),
            QColor("#8a8a8a"),
        )


class LoupeView(QWidget):
    """Shows the grid's current photo; keys go to ``key_handler`` first, arrows move."""

    move_requested = Signal(int)

    def __init__(self, images: ImageStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loupe")
        self.images = images
        self.image = LoupeImage(self)
        self.image.view_changed.connect(self._view_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.image)
        self.key_handler: Callable[[QKeyEvent], bool] | None = None
        self.record: PhotoRecord | None = None
        images.updated.connect(self._image_updated)
        images.failed.connect(self._image_failed)

    def show_record(self, record: PhotoRecord | None, position_text: str = "") -> None:
        same = record is not None and self.record is not None and record.id == self.record.id
        self.record = record
        self.image.record = record
        self.image.position_text = position_text
        if record is None:
            self.image.set_pixmap(None)
            self.image.message = "No photo"
            return
        if not same:
            keep_zoom = self.image.is_zoomed()
            center = self.image.center()
            self.image.set_pixmap(None, displayed_size(record))
            self.image.message = "Loading…"
            if keep_zoom:  # Lightroom keeps 100 % while moving through a burst
                self.image.set_view(True, center.x(), center.y())
            self._show_best()
            self.images.request(record, PREVIEW)
            if self.image.is_zoomed():
                self._want_full()
        self.image.update()

    def zoom(self, at: QPointF | None = None) -> None:
        self.image.toggle_zoom(at)

    def _view_changed(self, zoomed: bool, cx: float, cy: float) -> None:
        if zoomed:
            self._want_full()

    def _want_full(self) -> None:
        if self.record is None:
            return
        if self.images.pixmap(self.record.id, FULL) is None and self.images.failure(self.record.id, FULL) is None:
            self.image.loading_full = True
            self.images.request(self.record, FULL)

    def _show_best(self) -> None:
        if self.record is None:
            return
        pixmap, _kind = self.images.best(self.record.id)
        if pixmap is not None:
            self.image.set_pixmap(pixmap, displayed_size(self.record))

    def _image_updated(self, photo_id: int, kind: str) -> None:
        if self.record is not None and photo_id == self.record.id:
            if kind == FULL:
                self.image.loading_full = False
            self._show_best()

    def _image_failed(self, photo_id: int, kind: str, reason: str) -> None:
        if self.record is not None and photo_id == self.record.id:
            self.image.loading_full = False
            if self.image.pixmap() is None:
                self.image.message = f"Cannot show {self.record.filename}:\n{reason}"
            self.image.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        handler = self.key_handler
        if event.key() == Qt.Key.Key_Z and not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom()
            return
        if handler is not None and handler(event):
            return
        if event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self.move_requested.emit(1)
            return
        if event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self.move_requested.emit(-1)
            return
        super().keyPressEvent(event)
