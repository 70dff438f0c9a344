"""Hand-painted badges shared by the grid, the loupe and the side panel: score pill, pick / reject flag,
stars, and fitting an image into a box.

They take a QPainter and plain values (no model, no record) so every view that paints a photo draws the same
symbols without importing another view.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPolygonF

from artimuse_desktop.vocabulary import Flag

REJECT_COLOR = QColor("#e0453a")
PICK_COLOR = QColor("#f4f4f4")


def score_text(score: float | None) -> str:
    """A badge's score: whole points, "—" when absent."""
    return "—" if score is None else f"{score:.0f}"


def draw_pill(painter: QPainter, anchor: QPointF, text: str, *, align_right: bool = False, bold: bool = True) -> QRectF:
    """A dark translucent rounded label, readable over any photo."""
    font = QFont(painter.font())
    font.setBold(bold)
    font.setPointSizeF(max(7.0, font.pointSizeF() * 0.95))
    painter.setFont(font)
    metrics = QFontMetrics(font)
    width = metrics.horizontalAdvance(text) + 10
    height = metrics.height() + 2
    x = anchor.x() - width if align_right else anchor.x()
    rect = QRectF(x, anchor.y(), width, height)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(20, 20, 20, 190))
    painter.drawRoundedRect(rect, height / 2, height / 2)
    painter.setPen(QColor("#f2f2f2"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    return rect


def draw_flag(painter: QPainter, rect: QRectF, flag: int) -> None:
    """Pick: a white flag; reject: a red disc with a cross (Lightroom's symbols)."""
    if flag == Flag.NONE:
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = min(rect.width(), rect.height())
    box = QRectF(rect.right() - side, rect.top(), side, side)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(20, 20, 20, 170))
    painter.drawEllipse(box)
    inner = box.adjusted(side * 0.27, side * 0.24, -side * 0.27, -side * 0.24)
    if flag == Flag.PICK:
        pole = QPen(PICK_COLOR, max(1.2, side / 14))
        painter.setPen(pole)
        painter.drawLine(QPointF(inner.left(), inner.top()), QPointF(inner.left(), inner.bottom()))
        cloth = QPolygonF(
            [
                QPointF(inner.left(), inner.top()),
                QPointF(inner.right(), inner.top() + inner.height() * 0.28),
                QPointF(inner.left(), inner.top() + inner.height() * 0.56),
            ]
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(PICK_COLOR)
        painter.drawPolygon(cloth)
    else:
        painter.setBrush(REJECT_COLOR)
        painter.drawEllipse(box.adjusted(1, 1, -1, -1))
        painter.setPen(QPen(QColor("#ffffff"), max(1.5, side / 9), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        cross = box.adjusted(side * 0.32, side * 0.32, -side * 0.32, -side * 0.32)
        painter.drawLine(cross.topLeft(), cross.bottomRight())
        painter.drawLine(cross.topRight(), cross.bottomLeft())
    painter.restore()


def draw_stars(painter: QPainter, origin: QPointF, rating: int, size: float, color: QColor, dim: QColor) -> float:
    """Five stars (filled up to ``rating``, dots after it); returns the width used."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    step = size * 1.15
    for i in range(5):
        center = QPointF(origin.x() + i * step + size / 2, origin.y() + size / 2)
        if i < rating:
            painter.setBrush(color)
            painter.drawPath(star_path(center, size / 2))
        else:
            painter.setBrush(dim)
            painter.drawEllipse(center, size * 0.1, size * 0.1)
    painter.restore()
    return 5 * step


def star_path(center: QPointF, radius: float) -> QPainterPath:
    """A five-pointed star of outer ``radius`` around ``center``, point up."""
    path = QPainterPath()
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.45
        angle = -math.pi / 2 + i * math.pi / 5
        point = QPointF(center.x() + r * math.cos(angle), center.y() + r * math.sin(angle))
        if i == 0:
            path.moveTo(point)
        else:
            path.lineTo(point)
    path.closeSubpath()
    return path


def fit_rect(area: QRectF, width: int, height: int) -> QRectF:
    """The largest ``width`` × ``height`` rectangle centred in ``area`` (the whole area for a bad size)."""
    if width <= 0 or height <= 0:
        return QRectF(area)
    scale = min(area.width() / width, area.height() / height)
    w, h = width * scale, height * scale
    return QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)
