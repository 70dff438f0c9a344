"""The filter bar's choices: the flag and rating menus, the colour-label toggles and the sort chooser.

Each choice maps onto one part of ``queries.PhotoFilter`` or ``queries.SortSpec``; flags and labels come from
the vocabulary so the bar offers exactly what the catalog stores.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QSizePolicy, QToolButton, QWidget

from artimuse_desktop.catalog.filters import SortSpec
from artimuse_desktop.formatting import measure_label
from artimuse_desktop.gui.theme import label_qcolor
from artimuse_desktop.vocabulary import ATTRIBUTES, COLOR_LABELS, Flag

FLAG_CHOICES: tuple[tuple[str, set[int] | None], ...] = (
    ("Any flag", None),
    ("Picks", {Flag.PICK}),
    ("Picks & unflagged", {Flag.NONE, Flag.PICK}),
    ("Unflagged", {Flag.NONE}),
    ("Rejects", {Flag.REJECT}),
)
#: (text, at least, at most)
RATING_CHOICES: tuple[tuple[str, int | None, int | None], ...] = (
    ("Any rating", None, None),
    ("★ 1 or more", 1, None),
    ("★★ 2 or more", 2, None),
    ("★★★ 3 or more", 3, None),
    ("★★★★ 4 or more", 4, None),
    ("★★★★★ 5", 5, None),
    ("No stars", None, 0),
)
BASE_SORTS: tuple[tuple[str, str], ...] = (
    ("Capture time", "captured_at"),
    ("Score", "score"),
    ("File name", "filename"),
    ("Rating", "rating"),
)
DEFAULT_SORT = "captured_at"


def choice_combo(texts: Sequence[str], tooltip: str) -> QComboBox:
    """A combo box listing ``texts``; the caller maps its index back onto its choices table."""
    combo = QComboBox()
    for text in texts:
        combo.addItem(text)
    combo.setToolTip(tooltip)
    return combo


def label_icon(color: QColor | None, size: int = 14) -> QIcon:
    """A rounded swatch of ``color``; ``None`` draws a crossed-out outline ("no label")."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if color is None:
        painter.setPen(QColor("#9a9a9a"))
        painter.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
        painter.drawLine(3, size - 3, size - 3, 3)
    else:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    painter.end()
    return QIcon(pixmap)


class LabelToggles(QWidget):
    """One toggle per colour label and one for "no label"; none checked means any label."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons: dict[str | None, QToolButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        for label in (*COLOR_LABELS, None):
            button = QToolButton()
            button.setCheckable(True)
            button.setProperty("role", "flat")
            button.setIcon(label_icon(label_qcolor(label) if label else None))
            button.setToolTip(f"Show photos labelled {label}" if label else "Show photos without a colour label")
            button.toggled.connect(self.changed)
            self.buttons[label] = button
            layout.addWidget(button)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # as its buttons

    def chosen(self) -> set[str | None] | None:
        """The checked labels (``None`` inside means "no label"), or None when nothing narrows the view."""
        labels = {label for label, button in self.buttons.items() if button.isChecked()}
        return labels or None

    def clear(self) -> None:
        """Uncheck every toggle without a ``changed`` per button."""
        blockers = [QSignalBlocker(button) for button in self.buttons.values()]
        for button in self.buttons.values():
            button.setChecked(False)
        del blockers


def sort_text(key: str) -> str:
    """What the sort menu calls a key: "Capture time", "Technical Execution", "Colour cast" (never a raw name)."""
    for text, base in BASE_SORTS:
        if key == base:
            return text
    if key.startswith("attr:"):
        return key.removeprefix("attr:")
    if key.startswith("measure:"):
        return measure_label(key.removeprefix("measure:"))
    return key


class SortChooser(QObject):
    """The sort key (base keys, the attributes and technical measures this catalog has) and its direction.

    It owns two widgets, ``combo`` and ``direction``, and leaves placing them to the bar, so they line up with
    the bar's other controls on its second row. Attributes and measures no photo has are not offered: a sort
    by them would order nothing. A chosen key stays listed while it is chosen.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setToolTip("Sort by")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._measures: list[str] = []
        self._attributes: list[str] = []
        self._fill()
        self.combo.currentIndexChanged.connect(self.changed)
        self.direction = QToolButton()
        self.direction.setCheckable(True)
        self.direction.toggled.connect(self._direction_toggled)
        self._direction_toggled(False, emit=False)

    def set_measure_names(self, names: Sequence[str]) -> None:
        if list(names) != self._measures:
            self._measures = list(names)
            self._fill()

    def set_attribute_names(self, names: Sequence[str]) -> None:
        """The attributes some photo has a score for, in the vocabulary's order (others after, by name)."""
        order = {name: i for i, name in enumerate(ATTRIBUTES)}
        ordered = sorted(dict.fromkeys(names), key=lambda name: (order.get(name, len(order)), name))
        if ordered != self._attributes:
            self._attributes = ordered
            self._fill()

    def set_sort(self, key: str, descending: bool) -> None:
        """Choose ``key`` and the direction, then emit one ``changed``."""
        index = self.combo.findData(key)
        if index < 0 and key.startswith(("measure:", "attr:")):  # names not loaded yet: add it now
            with QSignalBlocker(self.combo):
                self.combo.addItem(sort_text(key), key)
            index = self.combo.count() - 1
        with QSignalBlocker(self.combo), QSignalBlocker(self.direction):
            if index >= 0:
                self.combo.setCurrentIndex(index)
            self.direction.setChecked(descending)
            self._direction_toggled(descending, emit=False)
        self.changed.emit()

    def sort_spec(self) -> SortSpec:
        key = self.combo.currentData() or DEFAULT_SORT
        return SortSpec(str(key), self.direction.isChecked())

    def _fill(self) -> None:
        current = self.combo.currentData()
        with QSignalBlocker(self.combo):
            self.combo.clear()
            for text, key in BASE_SORTS:
                self.combo.addItem(text, key)
            groups = (
                [f"attr:{name}" for name in self._attributes],
                [f"measure:{name}" for name in sorted(self._measures, key=measure_label)],
            )
            for keys in groups:
                if keys:
                    self.combo.insertSeparator(self.combo.count())
                for key in keys:
                    self.combo.addItem(sort_text(key), key)
                    self.combo.setItemData(self.combo.count() - 1, _sort_tip(key), Qt.ItemDataRole.ToolTipRole)
            index = self.combo.findData(current) if current else 0
            if index < 0 and current:  # the chosen key is no longer in the catalog: keep showing it
                self.combo.addItem(sort_text(str(current)), current)
                index = self.combo.count() - 1
            self.combo.setCurrentIndex(max(0, index))

    def _direction_toggled(self, descending: bool, *, emit: bool = True) -> None:
        self.direction.setText("↓" if descending else "↑")
        self.direction.setToolTip(
            "Descending: highest / newest first" if descending else "Ascending: lowest / oldest first"
        )
        if emit:
            self.changed.emit()


def _sort_tip(key: str) -> str:
    if key.startswith("measure:"):
        return f"The built-in technical analyzer's measure “{key.removeprefix('measure:')}”"
    return f"The attribute score “{key.removeprefix('attr:')}” (absent scores sort last)"
