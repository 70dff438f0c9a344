"""The score histogram under the filter bar's score range, with two draggable handles.

Showing the distribution of the current view's scores makes a threshold meaningful ("the top bump starts at
70") where a bare number is a guess. A full range (0–100) means "no score filter", so unscored photos stay
visible until the user narrows the range.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from artimuse_desktop.catalog.collections import histogram_counts

LOW, HIGH = 0.0, 100.0


def range_text(low: float | None, high: float | None) -> str:
    """What the label beside the histogram says: "any" for the full range, else "60 – 100"."""
    if low is None and high is None:
        return "any"
    lo = LOW if low is None else float(low)
    hi = HIGH if high is None else float(high)
    return f"{lo:.0f} – {hi:.0f}"


class ScoreHistogram(QWidget):
    """Bars of score counts; drag a handle (or sweep a new range) to filter; double-click resets."""

    range_changed = Signal(object, object)  # low or None, high or None

    def __init__(self, parent: QWidget | None = None, bins: int = 50) -> None:
        super().__init__(parent)
        self.setObjectName("scoreHistogram")
        self.bins = bins
        self._counts: list[int] = [0] * bins
        self._total = 0
        self._low = LOW
        self._high = HIGH
        self._drag: str | None = None
        self._anchor = 0.0
        self.setMinimumSize(160, 34)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setToolTip(
            "Score histogram of the photos shown. Drag the handles (or across) to filter by score;\n"
            "double-click to show every score again."
        )

    def sizeHint(self) -> QSize:
        return QSize(220, 38)

    # ------------------------------------------------------------------ data

    def set_values(self, values: Sequence[float]) -> None:
        """Bin raw scores (numpy; the window gets counts binned on a worker and calls ``set_counts``)."""
        self.set_counts(histogram_counts(values, self.bins))

    def set_counts(self, counts: Sequence[int]) -> None:
        """Show counts already binned over 0–100 (``catalog.collections.histogram_counts``)."""
        if len(counts) != self.bins:
            raise ValueError(f"the histogram has {self.bins} bins, not {len(counts)}")
        self._counts = [int(count) for count in counts]
        self._total = sum(self._counts)
        self.update()

    def counts(self) -> list[int]:
        return list(self._counts)

    def set_range(self, low: float | None, high: float | None) -> None:
        self._low = LOW if low is None else max(LOW, min(HIGH, low))
        self._high = HIGH if high is None else max(LOW, min(HIGH, high))
        if self._low > self._high:
            self._low, self._high = self._high, self._low
        self.update()

    def score_range(self) -> tuple[float | None, float | None]:
        """(low, high) with ``None`` for an open end; (None, None) when the range is full."""
        low = None if self._low <= LOW else round(self._low, 1)
        high = None if self._high >= HIGH else round(self._high, 1)
        return low, high

    # ------------------------------------------------------------------ geometry

    def _plot(self) -> QRectF:
        return QRectF(6, 2, self.width() - 12, self.height() - 13)

    def _x(self, value: float) -> float:
        plot = self._plot()
        return plot.left() + (value - LOW) / (HIGH - LOW) * plot.width()

    def _value(self, x: float) -> float:
        plot = self._plot()
        ratio = (x - plot.left()) / max(1.0, plot.width())
        return max(LOW, min(HIGH, LOW + ratio * (HIGH - LOW)))

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        plot = self._plot()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(plot.adjusted(-3, -1, 3, 1), 3, 3)
        peak = max(self._counts) if self._counts else 0
        bar_width = plot.width() / self.bins
        inside = palette.color(QPalette.ColorRole.Text)
        outside = palette.color(QPalette.ColorRole.Mid)
        for i, count in enumerate(self._counts):
            if not count:
                continue
            height = max(1.5, (plot.height() - 2) * (count / peak) ** 0.75) if peak else 0
            left = plot.left() + i * bar_width
            center = LOW + (i + 0.5) * (HIGH - LOW) / self.bins
            painter.setBrush(inside if self._low <= center <= self._high else outside)
            painter.drawRect(QRectF(left + 0.5, plot.bottom() - height, max(1.0, bar_width - 1), height))
        # selection shading outside the range
        shade = (
            QColor(0, 0, 0, 70)
            if palette.color(QPalette.ColorRole.Window).lightness() < 128
            else QColor(255, 255, 255, 110)
        )
        painter.setBrush(shade)
        if self._low > LOW:
            painter.drawRect(QRectF(plot.left(), plot.top(), self._x(self._low) - plot.left(), plot.height()))
        if self._high < HIGH:
            painter.drawRect(QRectF(self._x(self._high), plot.top(), plot.right() - self._x(self._high), plot.height()))
        handle = palette.color(QPalette.ColorRole.BrightText)
        for value in (self._low, self._high):
            x = self._x(value)
            painter.setPen(QPen(handle, 1.5))
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(handle)
            painter.drawEllipse(QPointF(x, plot.bottom()), 3.2, 3.2)
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.75))
        painter.setFont(font)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        label_top = plot.bottom() + 1
        for value, align in (
            (LOW, Qt.AlignmentFlag.AlignLeft),
            (50.0, Qt.AlignmentFlag.AlignHCenter),
            (HIGH, Qt.AlignmentFlag.AlignRight),
        ):
            x = self._x(value)
            box = QRectF(x - 20, label_top, 40, 11)
            if align == Qt.AlignmentFlag.AlignLeft:
                box = QRectF(x - 2, label_top, 40, 11)
            elif align == Qt.AlignmentFlag.AlignRight:
                box = QRectF(x - 38, label_top, 40, 11)
            painter.drawText(box, int(align | Qt.AlignmentFlag.AlignTop), f"{value:.0f}")
        if self._total == 0:
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, "no scores yet")
        painter.end()

    # ------------------------------------------------------------------ mouse

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        x = event.position().x()
        near_low = abs(x - self._x(self._low))
        near_high = abs(x - self._x(self._high))
        if min(near_low, near_high) <= 6:
            self._drag = "low" if near_low < near_high or (near_low == near_high and x < self._x(self._low)) else "high"
        else:
            self._drag = "sweep"
            self._anchor = self._value(x)
            self._low = self._high = self._anchor
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        if self._drag is None:
            near = min(abs(x - self._x(self._low)), abs(x - self._x(self._high))) <= 6
            self.setCursor(Qt.CursorShape.SizeHorCursor if near else Qt.CursorShape.CrossCursor)
            return
        value = self._value(x)
        if self._drag == "low":
            self._low = min(value, self._high)
        elif self._drag == "high":
            self._high = max(value, self._low)
        else:
            self._low, self._high = min(self._anchor, value), max(self._anchor, value)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        if self._drag == "sweep" and self._high - self._low < 0.5:  # a click: reset
            self._low, self._high = LOW, HIGH
        self._drag = None
        self.update()
        self.range_changed.emit(*self.score_range())

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self._low, self._high = LOW, HIGH
        self._drag = None
        self.update()
        self.range_changed.emit(None, None)
