"""The filter bar: text search, score range over a histogram, flag, rating, colour label, "More filters" (a
threshold per attribute and per technical measure, camera, lens, dates) and the sort order.

Everything the bar holds maps onto one ``queries.PhotoFilter`` and one ``queries.SortSpec``; the window adds
the chosen collection or folder and runs the query off the GUI thread. Typing is debounced so a burst of key
presses makes one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from PySide6.QtCore import QDate, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from artimuse_desktop.catalog.queries import PhotoFilter, SortSpec
from artimuse_desktop.gui.grid_delegate import LABEL_COLORS
from artimuse_desktop.gui.histogram import ScoreHistogram
from artimuse_desktop.gui.style import set_role
from artimuse_desktop.vocabulary import ATTRIBUTES, COLOR_LABELS

FLAG_CHOICES: tuple[tuple[str, set[int] | None], ...] = (
    ("Any flag", None),
    ("Picks", {1}),
    ("Picks & unflagged", {0, 1}),
    ("Unflagged", {0}),
    ("Rejects", {-1}),
)
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
OFF = -1.0


def label_icon(color: QColor | None, size: int = 14) -> QIcon:
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


def _threshold_spin(maximum: float = 100.0, minimum: float = OFF, decimals: int = 0) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(minimum, maximum)
    spin.setDecimals(decimals)
    spin.setSingleStep(5 if decimals == 0 else 0.5)
    spin.setSpecialValueText("off")
    spin.setValue(minimum)
    spin.setAccelerated(True)
    spin.setFixedWidth(78)
    return spin


class MoreFilters(QFrame):
    """The popup: thresholds per attribute and per measure, camera, lens and capture dates."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("moreFilters")
        self.setFrameShape(QFrame.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 10, 12, 10)
        outer.setSpacing(8)

        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(4)
        heading = QLabel("ATTRIBUTES  (at least)")
        set_role(heading, "heading")
        grid.addWidget(heading, 0, 0, 1, 2)
        self.attribute_spins: dict[str, QDoubleSpinBox] = {}
        for row, attribute in enumerate(ATTRIBUTES, start=1):
            spin = _threshold_spin()
            spin.valueChanged.connect(self.changed)
            self.attribute_spins[attribute] = spin
            grid.addWidget(QLabel(attribute), row, 0)
            grid.addWidget(spin, row, 1)
        outer.addLayout(grid)

        measure_heading = QLabel("TECHNICAL MEASURES")
        set_role(measure_heading, "heading")
        outer.addWidget(measure_heading)
        self._measure_holder = QVBoxLayout()
        self._measure_holder.setContentsMargins(0, 0, 0, 0)
        self._measure_rows: QWidget | None = None
        self.measure_spins: dict[str, tuple[QDoubleSpinBox, QDoubleSpinBox]] = {}
        self._no_measures = QLabel("Score photos with the technical analyzer to filter by its measures.")
        self._no_measures.setProperty("role", "muted")
        self._no_measures.setWordWrap(True)
        outer.addWidget(self._no_measures)
        outer.addLayout(self._measure_holder)

        form = QFormLayout()
        form.setContentsMargins(0, 6, 0, 0)
        self.camera = QLineEdit()
        self.camera.setPlaceholderText("make or model contains…")
        self.lens = QLineEdit()
        self.lens.setPlaceholderText("lens contains…")
        for edit in (self.camera, self.lens):
            edit.setClearButtonEnabled(True)
            edit.textChanged.connect(self.changed)
        form.addRow("Camera", self.camera)
        form.addRow("Lens", self.lens)
        self.date_from_on = QCheckBox("From")
        self.date_to_on = QCheckBox("To")
        self.date_from = QDateEdit(QDate.currentDate().addYears(-1))
        self.date_to = QDateEdit(QDate.currentDate())
        dates = QHBoxLayout()
        for check, date_edit in ((self.date_from_on, self.date_from), (self.date_to_on, self.date_to)):
            date_edit.setCalendarPopup(True)
            date_edit.setDisplayFormat("yyyy-MM-dd")
            date_edit.setEnabled(False)
            check.toggled.connect(date_edit.setEnabled)
            check.toggled.connect(self.changed)
            date_edit.dateChanged.connect(self._date_changed)
            dates.addWidget(check)
            dates.addWidget(date_edit)
        form.addRow("Captured", dates)
        outer.addLayout(form)

        reset = QPushButton("Reset these filters")
        reset.clicked.connect(self.reset)
        outer.addWidget(reset, 0, Qt.AlignmentFlag.AlignRight)

    def _date_changed(self) -> None:
        if self.date_from_on.isChecked() or self.date_to_on.isChecked():
            self.changed.emit()

    def set_measure_names(self, names: Sequence[str]) -> None:
        if list(names) == list(self.measure_spins):
            return
        old = {name: (low.value(), high.value()) for name, (low, high) in self.measure_spins.items()}
        if self._measure_rows is not None:  # replace the whole block: no stale row can linger
            self._measure_holder.removeWidget(self._measure_rows)
            self._measure_rows.hide()
            self._measure_rows.deleteLater()
            self._measure_rows = None
        self.measure_spins.clear()
        self._no_measures.setVisible(not names)
        if not names:
            return
        rows = QWidget()
        grid = QGridLayout(rows)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        grid.addWidget(QLabel("min"), 0, 1)
        grid.addWidget(QLabel("max"), 0, 2)
        for row, name in enumerate(names, start=1):
            label = QLabel(name.replace("_", " "))
            low = _threshold_spin(1e6, -1e6, 2)
            high = _threshold_spin(1e6, -1e6, 2)
            low.setSpecialValueText("–")
            high.setSpecialValueText("–")
            if name in old:
                low.setValue(old[name][0])
                high.setValue(old[name][1])
            low.valueChanged.connect(self.changed)
            high.valueChanged.connect(self.changed)
            self.measure_spins[name] = (low, high)
            grid.addWidget(label, row, 0)
            grid.addWidget(low, row, 1)
            grid.addWidget(high, row, 2)
        self._measure_rows = rows
        self._measure_holder.addWidget(rows)

    def reset(self) -> None:
        blockers = [QSignalBlocker(w) for w in self._inputs()]
        for spin in self.attribute_spins.values():
            spin.setValue(spin.minimum())
        for low, high in self.measure_spins.values():
            low.setValue(low.minimum())
            high.setValue(high.minimum())
        self.camera.clear()
        self.lens.clear()
        self.date_from_on.setChecked(False)
        self.date_to_on.setChecked(False)
        self.date_from.setEnabled(False)
        self.date_to.setEnabled(False)
        del blockers
        self.changed.emit()

    def _inputs(self) -> list[QWidget]:
        widgets: list[QWidget] = [
            *self.attribute_spins.values(),
            self.camera,
            self.lens,
            self.date_from_on,
            self.date_to_on,
            self.date_from,
            self.date_to,
        ]
        for low, high in self.measure_spins.values():
            widgets.extend((low, high))
        return widgets

    def apply_to(self, flt: PhotoFilter) -> int:
        """Write these filters into ``flt``; returns how many are active (for the button's badge)."""
        active = 0
        for attribute, spin in self.attribute_spins.items():
            if spin.value() > spin.minimum():
                flt.attr_min[attribute] = spin.value()
                active += 1
        for name, (low, high) in self.measure_spins.items():
            if low.value() > low.minimum():
                flt.measure_min[name] = low.value()
                active += 1
            if high.value() > high.minimum():
                flt.measure_max[name] = high.value()
                active += 1
        if self.camera.text().strip():
            flt.camera = self.camera.text().strip()
            active += 1
        if self.lens.text().strip():
            flt.lens = self.lens.text().strip()
            active += 1
        if self.date_from_on.isChecked():
            flt.date_from = datetime.combine(self.date_from.date().toPython(), time.min)  # type: ignore[arg-type]
            active += 1
        if self.date_to_on.isChecked():
            flt.date_to = datetime.combine(self.date_to.date().toPython(), time.max)  # type: ignore[arg-type]
            active += 1
        return active


class FilterBar(QFrame):
    """Two rows of filters and the sort; ``changed`` fires (debounced for typing) when anything changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterBar")
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.changed)

        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search file names and critiques")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(180)
        self.search.textChanged.connect(lambda _text: self._debounce.start())
        self.search.returnPressed.connect(self.apply_now)

        self.flag_combo = QComboBox()
        for text, _ in FLAG_CHOICES:
            self.flag_combo.addItem(text)
        self.flag_combo.setToolTip("Flag (P pick, X reject, U unflag)")
        self.rating_combo = QComboBox()
        for text, _, _ in RATING_CHOICES:
            self.rating_combo.addItem(text)
        self.rating_combo.setToolTip("Star rating (0–5 keys)")
        for combo in (self.flag_combo, self.rating_combo):
            combo.currentIndexChanged.connect(self.changed)

        self.label_buttons: dict[str | None, QToolButton] = {}
        labels_box = QHBoxLayout()
        labels_box.setSpacing(1)
        for label in (*COLOR_LABELS, None):
            button = QToolButton()
            button.setCheckable(True)
            button.setProperty("role", "flat")
            button.setIcon(label_icon(LABEL_COLORS.get(label) if label else None))
            button.setToolTip(f"Show photos labelled {label}" if label else "Show photos without a colour label")
            button.toggled.connect(self.changed)
            self.label_buttons[label] = button
            labels_box.addWidget(button)

        self.more = MoreFilters()
        self.more.changed.connect(self._more_changed)
        self.more_button = QToolButton()
        self.more_button.setText("More filters")
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.more_button)
        scroll = QScrollArea()
        scroll.setWidget(self.more)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMinimumWidth(420)
        scroll.setMinimumHeight(min(620, self.more.sizeHint().height() + 10))
        action = QWidgetAction(menu)
        action.setDefaultWidget(scroll)
        menu.addAction(action)
        self.more_button.setMenu(menu)
        self._more_active = 0

        self.histogram = ScoreHistogram()
        self.histogram.range_changed.connect(self._range_changed)
        self.range_label = QLabel("any")
        self.range_label.setProperty("role", "muted")
        self.range_label.setMinimumWidth(56)

        self.count_label = QLabel("")
        self.count_label.setObjectName("countLabel")
        self.count_label.setProperty("role", "count")

        self.sort_combo = QComboBox()
        self.sort_combo.setToolTip("Sort by")
        self.sort_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self._measures: list[str] = []
        self._fill_sorts()
        self.sort_combo.currentIndexChanged.connect(self.changed)
        self.direction = QToolButton()
        self.direction.setCheckable(True)
        self.direction.setToolTip("Descending (highest or newest first)")
        self.direction.toggled.connect(self._direction_toggled)
        self._direction_toggled(False, emit=False)

        row1 = QHBoxLayout()
        row1.setContentsMargins(0, 0, 0, 0)
        row1.setSpacing(6)
        row1.addWidget(self.search, 3)
        row1.addWidget(self.flag_combo)
        row1.addWidget(self.rating_combo)
        row1.addLayout(labels_box)
        row1.addWidget(self.more_button)
        row2 = QHBoxLayout()
        row2.setContentsMargins(0, 0, 0, 0)
        row2.setSpacing(6)
        score_label = QLabel("Score")
        score_label.setProperty("role", "muted")
        row2.addWidget(score_label)
        row2.addWidget(self.histogram, 2)
        row2.addWidget(self.range_label)
        row2.addStretch(1)
        row2.addWidget(self.count_label)
        row2.addSpacing(10)
        sort_label = QLabel("Sort")
        sort_label.setProperty("role", "muted")
        row2.addWidget(sort_label)
        row2.addWidget(self.sort_combo)
        row2.addWidget(self.direction)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(row1)
        layout.addLayout(row2)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    # ------------------------------------------------------------------ inputs from the window

    def set_counts(self, shown: int, total: int) -> None:
        noun = "photo" if total == 1 else "photos"
        self.count_label.setText(f"{shown:,} of {total:,} {noun}")

    def set_histogram(self, values: Sequence[float]) -> None:
        self.histogram.set_values(values)

    def set_measure_names(self, names: Sequence[str]) -> None:
        self.more.set_measure_names(names)
        if list(names) != self._measures:
            self._measures = list(names)
            self._fill_sorts()

    def _fill_sorts(self) -> None:
        current = self.sort_combo.currentData()
        with QSignalBlocker(self.sort_combo):
            self.sort_combo.clear()
            for text, key in BASE_SORTS:
                self.sort_combo.addItem(text, key)
            self.sort_combo.insertSeparator(self.sort_combo.count())
            for attribute in ATTRIBUTES:
                self.sort_combo.addItem(attribute, f"attr:{attribute}")
            if self._measures:
                self.sort_combo.insertSeparator(self.sort_combo.count())
                for name in self._measures:
                    self.sort_combo.addItem(f"{name} (measure)", f"measure:{name}")
            index = self.sort_combo.findData(current) if current else 0
            self.sort_combo.setCurrentIndex(max(0, index))

    # ------------------------------------------------------------------ state

    def pending(self) -> bool:
        """Typing is waiting for its debounce."""
        return self._debounce.isActive()

    def apply_now(self) -> None:
        """Apply pending typing at once (Enter in the search box)."""
        if self._debounce.isActive():
            self._debounce.stop()
        self.changed.emit()

    def set_sort(self, key: str, descending: bool) -> None:
        index = self.sort_combo.findData(key)
        if index < 0 and key.startswith("measure:"):  # measure names not loaded yet: add it now
            self.sort_combo.blockSignals(True)
            self.sort_combo.addItem(f"{key[8:]} (measure)", key)
            self.sort_combo.blockSignals(False)
            index = self.sort_combo.count() - 1
        with QSignalBlocker(self.sort_combo), QSignalBlocker(self.direction):
            if index >= 0:
                self.sort_combo.setCurrentIndex(index)
            self.direction.setChecked(descending)
            self._direction_toggled(descending, emit=False)
        self.changed.emit()

    def sort_spec(self) -> SortSpec:
        key = self.sort_combo.currentData() or "captured_at"
        return SortSpec(str(key), self.direction.isChecked())

    def set_score_range(self, low: float | None, high: float | None) -> None:
        self.histogram.set_range(low, high)
        self._range_changed(low, high)

    def photo_filter(self) -> PhotoFilter:
        """The bar's filters as a PhotoFilter (the window adds the collection)."""
        flt = PhotoFilter()
        flt.flags = FLAG_CHOICES[max(0, self.flag_combo.currentIndex())][1]
        _, flt.min_rating, flt.max_rating = RATING_CHOICES[max(0, self.rating_combo.currentIndex())]
        labels = {label for label, button in self.label_buttons.items() if button.isChecked()}
        flt.color_labels = labels or None
        flt.min_score, flt.max_score = self.histogram.score_range()
        text = self.search.text().strip()
        flt.search = text or None
        self.more.apply_to(flt)
        return flt

    def reset(self) -> None:
        widgets = [self.search, self.flag_combo, self.rating_combo, *self.label_buttons.values()]
        blockers = [QSignalBlocker(w) for w in widgets]
        self.search.clear()
        self.flag_combo.setCurrentIndex(0)
        self.rating_combo.setCurrentIndex(0)
        for button in self.label_buttons.values():
            button.setChecked(False)
        self.histogram.set_range(None, None)
        self.range_label.setText("any")
        with QSignalBlocker(self.more):
            self.more.reset()
        self._more_changed()
        del blockers
        self.apply_now()

    # ------------------------------------------------------------------ internals

    def _range_changed(self, low: object, high: object) -> None:
        if low is None and high is None:
            self.range_label.setText("any")
        else:
            lo = 0.0 if low is None else float(low)  # type: ignore[arg-type]
            hi = 100.0 if high is None else float(high)  # type: ignore[arg-type]
            self.range_label.setText(f"{lo:.0f} – {hi:.0f}")
        self.changed.emit()

    def _more_changed(self) -> None:
        self._more_active = self.more.apply_to(PhotoFilter())
        self.more_button.setText(f"More filters ({self._more_active})" if self._more_active else "More filters")
        self._debounce.start()

    def _direction_toggled(self, descending: bool, *, emit: bool = True) -> None:
        self.direction.setText("↓" if descending else "↑")
        self.direction.setToolTip(
            "Descending: highest / newest first" if descending else "Ascending: lowest / oldest first"
        )
        if emit:
            self.changed.emit()
