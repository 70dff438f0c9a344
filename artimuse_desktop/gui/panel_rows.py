"""The side panel's lists that change length with the photo: the technical measures and the EXIF rows.

The rows are widgets kept from one photo to the next and only re-texted, shown or hidden: creating and deleting
a dozen word-wrapped labels per photo (each polished by the style sheet and laid out height-for-width) cost
20-200 ms of the GUI thread each time the current photo changed, every key press while culling.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from artimuse_desktop.catalog.records import MeasureRecord
from artimuse_desktop.formatting import measure_label
from artimuse_desktop.gui.panel_details import breakable, format_measure, measure_detail


class MeasureRow(QWidget):
    """A measure's name and value on one line, its note (unit, verdict) under them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        layout.setSpacing(0)
        top = QHBoxLayout()
        self.name = QLabel()
        self.name.setWordWrap(True)
        self.value = QLabel()
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.name, 1)
        top.addWidget(self.value)
        layout.addLayout(top)
        self.note = QLabel()
        self.note.setProperty("role", "critique")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)

    def show_measure(self, measure: MeasureRecord) -> None:
        self.name.setText(measure_label(measure.name))
        self.name.setToolTip(f"“{measure.name}” in filters, sorts and CSV columns")
        self.value.setText(format_measure(measure))
        detail = measure_detail(measure)
        self.note.setText(detail)
        self.note.setVisible(bool(detail))


class MeasureRows:
    """The measure rows in ``box``: as many shown as the photo has measures, the others hidden for the next."""

    def __init__(self, box: QBoxLayout) -> None:
        self.box = box
        self.rows: list[MeasureRow] = []

    def show_measures(self, measures: Sequence[MeasureRecord]) -> None:
        while len(self.rows) < len(measures):
            row = MeasureRow()
            self.box.addWidget(row)
            self.rows.append(row)
        for row, measure in zip(self.rows, measures, strict=False):
            row.show_measure(measure)
            row.show()
        for row in self.rows[len(measures) :]:
            row.hide()

    def shown(self) -> list[MeasureRow]:
        return [row for row in self.rows if not row.isHidden()]


class ExifRows:
    """(caption, value) rows of ``form``, kept and re-texted; rows beyond the photo's are hidden."""

    def __init__(self, form: QFormLayout) -> None:
        self.form = form
        self.pairs: list[tuple[QLabel, QLabel]] = []

    def show_rows(self, rows: Sequence[tuple[str, str]]) -> None:
        while len(self.pairs) < len(rows):
            label = QLabel()
            label.setProperty("role", "muted")
            text = QLabel()
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.form.addRow(label, text)
            self.pairs.append((label, text))
        for at, (label, text) in enumerate(self.pairs):
            shown = at < len(rows)
            if shown:
                label.setText(rows[at][0])
                text.setText(breakable(rows[at][1]))
            self.form.setRowVisible(at, shown)

    def shown(self) -> list[tuple[str, str]]:
        """The rows shown, as ``exif_rows`` made them (without the break points ``breakable`` adds)."""
        visible = [pair for at, pair in enumerate(self.pairs) if self.form.isRowVisible(at)]
        return [(label.text(), text.text().replace("\u200b", "")) for label, text in visible]
