"""Paints one grid cell: the thumbnail and its badges (score, flag, stars, colour label, burst stack).

Painting is done by hand rather than with widgets per cell so a grid of 100,000 photos costs only the cells
on screen. Colours of the chrome are neutral greys from the palette; only the badges (``badges``) and the
colour label (``theme.label_qcolor``) carry colour.

The badges, the stars and the placeholder's words are drawn once into small pixmaps (``Sprites``) and then
copied: each is a handful of Python calls into Qt (five star paths of ten points, a font and its metrics per
pill), and a screenful of cells repainted for each selection change, page of records or scroll step cost
about 0.5 ms of Python per cell that way; the filename's elided text is kept too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from artimuse_desktop.catalog.models import STATUS_ERROR, STATUS_MISSING
from artimuse_desktop.catalog.records import PhotoRecord
from artimuse_desktop.gui.badges import draw_flag, draw_pill, draw_stars, fit_rect, score_text
from artimuse_desktop.gui.grid_model import (
    BURST_COUNT_ROLE,
    BURST_MEMBER_ROLE,
    FAILED_ROLE,
    PIXMAP_ROLE,
    RECORD_ROLE,
    PhotoGridModel,
)
from artimuse_desktop.gui.theme import label_qcolor
from artimuse_desktop.vocabulary import Flag

FOOTER = 22
MARGIN = 4
SPRITES = 512  # small pictures kept (stars per rating, flags, score pills: a few hundred at most)
ELIDED = 4096  # filenames kept elided to their width

_Index = QModelIndex | QPersistentModelIndex


#: What a sprite is made from on first use: its size and how to draw it at (0, 0).
Recipe = Callable[[], tuple[float, float, Callable[[QPainter], object]]]


class Sprites:
    """Small pictures drawn once and copied into each cell that shows them, by what they depend on."""

    def __init__(self, limit: int = SPRITES) -> None:
        self.limit = limit
        self._items: dict[Hashable, tuple[QPixmap, float]] = {}

    def get(self, key: Hashable, ratio: float, recipe: Recipe) -> tuple[QPixmap, float]:
        """The picture for ``key`` (at ``ratio`` device pixels per pixel) and its width in pixels."""
        found = self._items.get(key)
        if found is None:
            if len(self._items) >= self.limit:
                self._items.clear()
            width, height, draw = recipe()
            pixmap = QPixmap(max(1, math.ceil(width * ratio)), max(1, math.ceil(height * ratio)))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            draw(painter)
            painter.end()
            found = self._items[key] = (pixmap, width)
        return found

    def __len__(self) -> int:
        return len(self._items)


class GridDelegate(QStyledItemDelegate):
    """Draws cells of ``thumb_size`` pixels plus a footer line for stars and the label."""

    def __init__(self, parent: QWidget | None = None, thumb_size: int = 180) -> None:
        super().__init__(parent)
        self.thumb_size = thumb_size
        self.extra_width = 0  # spare width the view shares out between columns
        self.show_filenames = True
        self.sprites = Sprites()
        self._elided: dict[tuple[str, int, str], str] = {}
        self._fonts: dict[str, tuple[QFont, QFont, QFontMetrics, int]] = {}  # by the view font's key

    def cell_size(self) -> QSize:
        return QSize(self.thumb_size + 2 * MARGIN + self.extra_width, self.thumb_size + FOOTER + 2 * MARGIN)

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return self.cell_size()

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        # Straight to the Python model: no QVariant round trip per role and per cell.
        model = index.model()
        photo_model = model if isinstance(model, PhotoGridModel) else None
        record = photo_model.painted_record(index.row()) if photo_model is not None else index.data(RECORD_ROLE)
        palette: QPalette = option.palette
        rect: QRect = option.rect
        state = option.state
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        cell = QRectF(rect).adjusted(MARGIN / 2, MARGIN / 2, -MARGIN / 2, -MARGIN / 2)
        selected = bool(state & QStyle.StateFlag.State_Selected)
        current = bool(state & QStyle.StateFlag.State_HasFocus)
        base = palette.color(QPalette.ColorRole.AlternateBase)
        if selected:
            base = palette.color(QPalette.ColorRole.Highlight)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(base)
        painter.drawRoundedRect(cell, 3, 3)
        if current:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.BrightText), 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(cell.adjusted(0.75, 0.75, -0.75, -0.75), 3, 3)
        if record is None:
            painter.restore()
            return
        assert isinstance(record, PhotoRecord)
        image_area = QRectF(cell.x() + 6, cell.y() + 6, cell.width() - 12, cell.height() - FOOTER - 8)
        if photo_model is not None:
            pixmap = photo_model.thumbnail(record)
            burst_count = photo_model.burst_count(record.id)
            failure = photo_model.failure(record.id)
            member = photo_model.is_burst_member(record.id)
        else:
            pixmap = index.data(PIXMAP_ROLE)
            burst_count = int(index.data(BURST_COUNT_ROLE) or 0)
            failure = index.data(FAILED_ROLE)
            member = bool(index.data(BURST_MEMBER_ROLE))
        ratio = painter.device().devicePixelRatioF()
        image_rect = self._draw_image(painter, image_area, pixmap, record, failure, burst_count, ratio)
        if record.flag == Flag.REJECT:  # rejects are dimmed, as in Lightroom
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 120))
            painter.drawRect(image_rect)
        self._draw_badges(painter, image_rect, record, burst_count, member, ratio)
        self._draw_footer(painter, cell, record, palette, ratio)
        painter.restore()

    def helpEvent(
        self, event: QHelpEvent, view: QAbstractItemView, option: QStyleOptionViewItem, index: _Index
    ) -> bool:
        """Over the score badge: what the score is (model, version, scale); elsewhere the cell's tooltip."""
        model = index.model()
        if event.type() == QEvent.Type.ToolTip and isinstance(model, PhotoGridModel):
            record = model.record(index.row())
            badge = self.score_badge_rect(option.rect, option.font, record, model) if record else None
            if record is not None and badge is not None and badge.contains(QPointF(event.pos())):
                QToolTip.showText(event.globalPos(), model.score_tooltip(record), view, badge.toAlignedRect())
                return True
        return super().helpEvent(event, view, option, index)

    def score_badge_rect(self, rect: QRect, font: QFont, record: PhotoRecord, model: PhotoGridModel) -> QRectF | None:
        """Where ``paint`` draws the score badge ("!" for a failed file) in a cell at ``rect``; None without one."""
        if record.score is None and record.status != STATUS_ERROR:
            return None
        cell = QRectF(rect).adjusted(MARGIN / 2, MARGIN / 2, -MARGIN / 2, -MARGIN / 2)
        area = QRectF(cell.x() + 6, cell.y() + 6, cell.width() - 12, cell.height() - FOOTER - 8)
        image = self._image_target(area, model.pixmap(record.id), record)
        return pill_rect(font, QPointF(image.left() + 4.0, image.top() + 4.0), _badge_text(record))

    @staticmethod
    def _image_target(area: QRectF, pixmap: QPixmap | None, record: PhotoRecord) -> QRectF:
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            return fit_rect(area, pixmap.width(), pixmap.height())
        w, h = record.width or 3, record.height or 2
        if record.orientation in (5, 6, 7, 8):
            w, h = h, w
        return fit_rect(area, w, h)

    def _draw_image(
        self,
        painter: QPainter,
        area: QRectF,
        pixmap: QPixmap | None,
        record: PhotoRecord,
        failure: str | None,
        burst_count: int,
        ratio: float = 1.0,
    ) -> QRectF:
        target = self._image_target(area, pixmap, record)
        if burst_count > 1:  # a stack: two cards peeking out behind the best frame
            painter.setPen(QPen(QColor(0, 0, 0, 90), 1))
            for offset, shade in ((6, 70), (3, 110)):
                painter.setBrush(QColor(shade, shade, shade))
                painter.drawRect(target.translated(offset, -offset))
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(128, 128, 128, 40))
            painter.drawRect(target)
            if failure or record.status in (STATUS_ERROR, STATUS_MISSING):
                text = "File missing" if record.status == STATUS_MISSING else "No preview"
                font = painter.font()
                box = QRectF(0, 0, round(target.width()), round(target.height()))
                words, _ = self.sprites.get(
                    ("words", text, font.key(), box.width(), box.height(), ratio),
                    ratio,
                    lambda: (box.width(), box.height(), lambda p: _centred_words(p, font, box, text)),
                )
                painter.drawPixmap(_aligned(target.topLeft()), words)
        return target

    def _pill(self, painter: QPainter, anchor: QPointF, text: str, ratio: float, *, align_right: bool = False) -> None:
        """``badges.draw_pill`` at ``anchor``, from a sprite."""
        base = painter.font()

        def recipe() -> tuple[float, float, Callable[[QPainter], object]]:
            rect = pill_rect(base, QPointF(0, 0), text)
            return rect.width(), rect.height(), lambda p: (p.setFont(base), draw_pill(p, QPointF(0, 0), text))

        sprite, width = self.sprites.get(("pill", text, base.key(), ratio), ratio, recipe)
        x = anchor.x() - width if align_right else anchor.x()
        painter.drawPixmap(_aligned(QPointF(x, anchor.y())), sprite)

    def _draw_badges(
        self, painter: QPainter, image: QRectF, record: PhotoRecord, burst_count: int, member: bool, ratio: float = 1.0
    ) -> None:
        inset = 4.0
        if record.score is not None or record.status == STATUS_ERROR:
            self._pill(painter, QPointF(image.left() + inset, image.top() + inset), _badge_text(record), ratio)
        flag_size = max(14.0, min(22.0, self.thumb_size / 9))
        flag = int(record.flag)
        if flag != Flag.NONE:
            box = QRectF(0, 0, flag_size, flag_size)
            sprite, _ = self.sprites.get(
                ("flag", flag, flag_size, ratio),
                ratio,
                lambda: (flag_size, flag_size, lambda p: draw_flag(p, box, flag)),
            )
            painter.drawPixmap(_aligned(QPointF(image.right() - inset - flag_size, image.top() + inset)), sprite)
        if burst_count > 1:
            height = self._font_set(painter.font())[3]  # one pill line above the image's bottom
            self._pill(
                painter,
                QPointF(image.right() - inset, image.bottom() - inset - height - 2),
                f"×{burst_count}",
                ratio,
                align_right=True,
            )
        elif member:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(20, 20, 20, 170))
            dot = QRectF(image.right() - inset - 10, image.bottom() - inset - 10, 10, 10)
            painter.drawRoundedRect(dot, 2, 2)
            painter.setPen(QPen(QColor("#dcdcdc"), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(dot.adjusted(2.5, 2.5, -2.5, -2.5))

    def _draw_footer(
        self, painter: QPainter, cell: QRectF, record: PhotoRecord, palette: QPalette, ratio: float = 1.0
    ) -> None:
        footer = QRectF(cell.x() + 7, cell.bottom() - FOOTER, cell.width() - 14, FOOTER - 4)
        text_color = palette.color(QPalette.ColorRole.Text)
        dim = palette.color(QPalette.ColorRole.PlaceholderText)
        star = max(8.0, min(12.0, self.thumb_size / 16))
        used = 5 * star * 1.15  # what ``draw_stars`` takes
        rating = int(record.rating)
        stars, _ = self.sprites.get(
            ("stars", rating, star, text_color.rgba(), dim.rgba(), ratio),
            ratio,
            lambda: (used, star, lambda p: draw_stars(p, QPointF(0, 0), rating, star, text_color, dim)),
        )
        painter.drawPixmap(_aligned(QPointF(footer.x(), footer.center().y() - star / 2)), stars)
        right = footer.right()
        if record.color_label:
            color = label_qcolor(record.color_label)
            swatch = QRectF(right - 12, footer.center().y() - 6, 12, 12)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRoundedRect(swatch, 3, 3)
            right -= 18
        if self.show_filenames and self.thumb_size >= 140:
            room = QRectF(footer.x() + used + 6, footer.y(), right - footer.x() - used - 6, footer.height())
            if room.width() > 30:
                base = painter.font()
                _, font, metrics, _ = self._font_set(base)
                key = (record.filename, int(room.width()), base.key())
                elided = self._elided.get(key)
                if elided is None:
                    if len(self._elided) >= ELIDED:
                        self._elided.clear()
                    elided = metrics.elidedText(record.filename, Qt.TextElideMode.ElideMiddle, int(room.width()))
                    self._elided[key] = elided
                painter.setFont(font)
                painter.setPen(dim)
                painter.drawText(room, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, elided)

    def _font_set(self, base: QFont) -> tuple[QFont, QFont, QFontMetrics, int]:
        """The pill's bold font, the filename's font (as the cell drew it after a score pill: 0.95 × 0.9 of the
        view's), the filename font's metrics and the pill font's line height, made once per font of the view."""
        key = base.key()
        found = self._fonts.get(key)
        if found is None:
            pill = QFont(base)
            pill.setBold(True)
            pill.setPointSizeF(max(7.0, pill.pointSizeF() * 0.95))
            name = QFont(pill)
            name.setBold(False)
            name.setPointSizeF(max(7.0, name.pointSizeF() * 0.9))
            found = self._fonts[key] = (pill, name, QFontMetrics(name), QFontMetrics(pill).height())
        return found


def _badge_text(record: PhotoRecord) -> str:
    return score_text(record.score) if record.score is not None else "!"


def pill_rect(font: QFont, anchor: QPointF, text: str) -> QRectF:
    """The rectangle ``badges.draw_pill`` fills for ``text`` at ``anchor`` with the painter's ``font``."""
    bold = QFont(font)
    bold.setBold(True)
    bold.setPointSizeF(max(7.0, bold.pointSizeF() * 0.95))
    metrics = QFontMetrics(bold)
    return QRectF(anchor.x(), anchor.y(), metrics.horizontalAdvance(text) + 10, metrics.height() + 2)


def _aligned(point: QPointF) -> QPointF:
    """A sprite's corner on whole pixels (copied, not resampled)."""
    return QPointF(round(point.x()), round(point.y()))


def _centred_words(painter: QPainter, font: QFont, box: QRectF, text: str) -> None:
    painter.setFont(font)
    painter.setPen(QColor("#b0b0b0"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
