"""The "More filters" popup: a threshold per attribute and per technical measure, camera, lens and capture
dates, and the tool button that opens it and counts the active ones.

These are the filters a culling pass rarely touches, so they live behind one button rather than in the bar;
``MoreFilters.apply_to`` writes them into the bar's ``PhotoFilter``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time

from PySide6.QtCore import QDate, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
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
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from artimuse_desktop.catalog.filters import PhotoFilter
from artimuse_desktop.formatting import measure_label
from artimuse_desktop.gui.theme import set_role
from artimuse_desktop.vocabulary import ATTRIBUTES

#: A threshold spin box at its minimum reads "off".
OFF = -1.0


def threshold_spin(maximum: float = 100.0, minimum: float = OFF, decimals: int = 0) -> QDoubleSpinBox:
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
            spin = threshold_spin()
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
            label = QLabel(measure_label(name))
            label.setToolTip(f"“{name}” in filter expressions and CSV columns")
            low = threshold_spin(1e6, -1e6, 2)
            high = threshold_spin(1e6, -1e6, 2)
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


class MoreFiltersButton(QToolButton):
    """Opens ``MoreFilters`` in a scrollable popup; its text counts the active filters."""

    def __init__(self, more: MoreFilters, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setText("More filters")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        scroll = QScrollArea()
        scroll.setWidget(more)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMinimumWidth(420)
        scroll.setMinimumHeight(min(620, more.sizeHint().height() + 10))
        action = QWidgetAction(menu)
        action.setDefaultWidget(scroll)
        menu.addAction(action)
        self.setMenu(menu)

    def set_active(self, count: int) -> None:
        self.setText(f"More filters ({count})" if count else "More filters")
