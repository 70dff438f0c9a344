"""The side panel's facts about the photo: its decisions line, the technical measures with their notes, and
the EXIF rows.

The text is made by plain functions (no widgets) so what the panel says can be read and tested apart from Qt
layout; the two widgets here only lay those lines out.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from artimuse_desktop.catalog.records import MeasureRecord, PhotoRecord
from artimuse_desktop.vocabulary import Flag

FLAG_TEXT: dict[int, str] = {Flag.PICK: "⚑ Pick", Flag.REJECT: "✕ Reject"}


def decision_text(record: PhotoRecord) -> str:
    """ "⚑ Pick   ·   ★★★☆☆   ·   red label": flag, stars and colour label on one line."""
    flag = FLAG_TEXT.get(record.flag, "Unflagged")
    stars = "★" * record.rating + "☆" * (5 - record.rating)
    label = f"   ·   {record.color_label} label" if record.color_label else ""
    return f"{flag}   ·   {stars}{label}"


def format_measure(measure: MeasureRecord) -> str:
    """The number alone ("123", "0.42", "1,234"); the unit goes on the detail line under it."""
    if measure.value == 0 or abs(measure.value) >= 1000:
        return f"{measure.value:,.0f}"
    return f"{measure.value:.3g}"


def measure_detail(measure: MeasureRecord) -> str:
    """ "LoG variance · higher is better · <note>": the unit, which way is better, and the analyzer's note."""
    parts = []
    if measure.unit and measure.unit not in ("", "1"):
        parts.append(measure.unit)
    if measure.higher_is_better is not None:
        parts.append("higher is better" if measure.higher_is_better else "lower is better")
    if measure.note:
        parts.append(measure.note)
    return "  ·  ".join(parts)


def breakable(text: str) -> str:
    """Let long paths wrap after their separators (a zero-width space after each one)."""
    return text.replace("/", "/\u200b").replace("\\", "\\\u200b")


def exif_rows(record: PhotoRecord) -> list[tuple[str, str]]:
    """(caption, value) for what the file's metadata says, in reading order; missing fields are left out."""
    rows: list[tuple[str, str]] = []
    camera = " ".join(part for part in (record.camera_make, record.camera_model) if part)
    if camera:
        rows.append(("Camera", camera))
    if record.lens:
        rows.append(("Lens", record.lens))
    exposure: list[str] = []
    if record.focal_length:
        exposure.append(f"{record.focal_length:.0f} mm")
    if record.aperture:
        exposure.append(f"f/{record.aperture:.1f}".replace(".0", ""))
    if record.shutter:
        exposure.append(f"1/{round(1 / record.shutter)} s" if record.shutter < 1 else f"{record.shutter:g} s")
    if record.iso:
        exposure.append(f"ISO {record.iso}")
    if exposure:
        rows.append(("Exposure", "   ".join(exposure)))
    if record.captured_at:
        rows.append(("Captured", record.captured_at.strftime("%Y-%m-%d %H:%M:%S")))
    if record.width and record.height:
        megapixels = record.width * record.height / 1e6
        rows.append(("Size", f"{record.width} × {record.height}  ({megapixels:.1f} MP)"))
    rows.append(("File", f"{record.format or '?'} · {record.size / 1e6:.1f} MB"))
    if record.gps_lat is not None and record.gps_lon is not None:
        rows.append(("GPS", f"{record.gps_lat:.5f}, {record.gps_lon:.5f}"))
    rows.append(("Folder", record.folder))
    return rows


class MeasureList(QWidget):
    """One row per technical measure (name, value, detail line), or "Not analysed yet."."""

    def __init__(self, spacing: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.no_measures = QLabel("Not analysed yet.")
        self.no_measures.setProperty("role", "muted")
        self._rows = QVBoxLayout()
        self._rows.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(spacing)
        layout.addWidget(self.no_measures)
        layout.addLayout(self._rows)

    def show_measures(self, measures: Sequence[MeasureRecord]) -> None:
        while self._rows.count():
            item = self._rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.no_measures.setVisible(not measures)
        for measure in measures:
            self._rows.addWidget(self._measure_row(measure))

    @staticmethod
    def _measure_row(measure: MeasureRecord) -> QWidget:
        row = QWidget()
        row_layout = QVBoxLayout(row)
        row_layout.setContentsMargins(0, 2, 0, 2)
        row_layout.setSpacing(0)
        top = QHBoxLayout()
        name = QLabel(measure.name.replace("_", " ").capitalize())
        name.setWordWrap(True)
        value = QLabel(format_measure(measure))
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(name, 1)
        top.addWidget(value)
        row_layout.addLayout(top)
        detail = measure_detail(measure)
        if detail:
            note = QLabel(detail)
            note.setProperty("role", "critique")
            note.setWordWrap(True)
            row_layout.addWidget(note)
        return row


class ExifForm(QWidget):
    """Caption / value pairs; values wrap and can be selected (to copy a path or a lens name)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._form = QFormLayout(self)
        self._form.setContentsMargins(0, 0, 0, 0)
        self._form.setHorizontalSpacing(10)
        self._form.setVerticalSpacing(2)

    def show_rows(self, rows: Sequence[tuple[str, str]]) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        for key, value in rows:
            label = QLabel(key)
            label.setProperty("role", "muted")
            text = QLabel(breakable(value))
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._form.addRow(label, text)
