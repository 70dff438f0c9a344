"""The right panel: the current photo's preview, score (and which model gave it), the eight attributes with
their critiques, the technical measures with their notes, and EXIF.

This module lays the panel out and fills it; an attribute's row is ``panel_attributes``, the texts of the
decisions, measures and EXIF are ``panel_details``. Critique text can stream in live from the scoring worker
("Write critique"). The sections stay plain layouts inside one body widget: nesting them as widgets of their own
crashed Qt's height-for-width layout when the error line appeared (a test covers that path).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from artimuse_desktop.catalog.collections import PhotoDetails
from artimuse_desktop.catalog.records import AssessmentRecord, MeasureRecord, PhotoRecord
from artimuse_desktop.catalog.shown_values import attribute_values
from artimuse_desktop.gui.badges import fit_rect
from artimuse_desktop.gui.panel_attributes import ABSENT, AttributeRow, AttributeView
from artimuse_desktop.gui.panel_details import decision_text, exif_rows
from artimuse_desktop.gui.panel_rows import ExifRows, MeasureRows
from artimuse_desktop.gui.score_help import by_text, score_tooltip
from artimuse_desktop.gui.theme import set_role
from artimuse_desktop.vocabulary import ATTRIBUTES

#: Space between the panel's lines; the sections use it inside too, so the rhythm is one.
SPACING = 4


def attribute_views(assessments: Sequence[AssessmentRecord], score_model: str) -> list[AttributeView]:
    """One entry per ArtiMuse attribute, by ``catalog.shown_values`` (the rule sorts, filters and reports
    follow); absent stays None."""
    shown = attribute_values(assessments, score_model)
    versions = _versions(assessments)
    views: list[AttributeView] = []
    for attribute in ATTRIBUTES:
        value = shown.get(attribute)
        if value is None:
            views.append(AttributeView(attribute, None, None, False, None))
            continue
        views.append(
            AttributeView(
                attribute,
                value.score,
                value.critique,
                value.experimental,
                value.model,
                versions.get(value.model or "", ()),
                value.critique_model,
            )
        )
    return views


def _versions(assessments: Sequence[AssessmentRecord]) -> dict[str, tuple[str, ...]]:
    """The version of each model's current assessment of this photo."""
    return {a.model: (a.model_version,) for a in assessments}


def score_lines(data: PhotoDetails) -> tuple[str, str, str | None, str]:
    """The score, its source line, the problem (if any) and the tooltip for the panel's score.

    A file that failed says why (the record's error, else the assessment's), never "not scored yet"."""
    record, model = data.record, data.score_model
    main = next((a for a in data.assessments if a.model == model), None)
    versions = (main.model_version,) if main is not None else ()
    error = record.error or (main.error if main is not None else None)
    if main is not None and main.score is not None:
        source = f"by {by_text(model, versions)}\n{main.created_at:%Y-%m-%d %H:%M}"
        return f"{main.score:.1f}", source, error, score_tooltip(main.score, model, versions)
    if record.error:
        source = "not scored: the file could not be read"
    elif error:
        source = f"{model} could not score it"
    else:
        source = f"not scored by {model} yet"
    return ABSENT, source, error, score_tooltip(None, model, versions, error)


class PreviewImage(QWidget):
    """The photo fitted into a box about as tall as a 3:2 frame at the panel's width."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(320, 220)

    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        self._pixmap = pixmap
        self.update()

    def pixmap(self) -> QPixmap | None:
        return self._pixmap

    def resizeEvent(self, event: object) -> None:
        self.setFixedHeight(max(160, int(self.width() * 0.68)))
        super().resizeEvent(event)  # type: ignore[arg-type]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        if self._pixmap is not None and not self._pixmap.isNull():
            target = fit_rect(QRectF(self.rect()).adjusted(4, 4, -4, -4), self._pixmap.width(), self._pixmap.height())
            painter.drawPixmap(target, self._pixmap, QRectF(self._pixmap.rect()))
        painter.end()


def _heading(text: str) -> QLabel:
    label = QLabel(text.upper())
    set_role(label, "heading")
    return label


class SidePanel(QFrame):
    """Shows ``PhotoDetails``; emits ``critique_requested(photo_id)`` and ``critique_cancel_requested``."""

    critique_requested = Signal(int)
    critique_cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidePanel")
        self.setMinimumWidth(280)
        self.data: PhotoDetails | None = None
        self._critique_model: str | None = None
        self._critique_reason = "Checking which models are installed…"
        self._streaming_id: int | None = None

        body = QWidget()
        body.setObjectName("sidePanelBody")
        # Never wider than the panel: long words are clipped rather than pushing the text off screen.
        body.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.body_layout = QVBoxLayout(body)
        self.body_layout.setContentsMargins(12, 10, 12, 14)
        self.body_layout.setSpacing(SPACING)

        self.preview = PreviewImage()
        self.title = QLabel("No photo selected")
        set_role(self.title, "title")
        self.title.setWordWrap(True)
        self.decisions = QLabel()
        self.decisions.setProperty("role", "muted")
        self.stack_note = QLabel()  # why this frame's burst stack keeps the frame it keeps
        self.stack_note.setProperty("role", "muted")
        self.stack_note.setWordWrap(True)
        self.stack_note.hide()

        self.score = QLabel(ABSENT)
        self.score.setObjectName("scoreValue")
        set_role(self.score, "score")
        self.score_source = QLabel()
        self.score_source.setObjectName("scoreSource")
        self.score_source.setProperty("role", "muted")
        self.score_source.setWordWrap(True)
        self.score_error = QLabel()
        self.score_error.setProperty("role", "error")
        self.score_error.setWordWrap(True)
        self.score_error.hide()
        score_row = QHBoxLayout()
        score_row.setSpacing(10)
        score_row.addWidget(self.score)
        score_row.addWidget(self.score_source, 1, Qt.AlignmentFlag.AlignBottom)

        self.attribute_rows: dict[str, AttributeRow] = {a: AttributeRow(a) for a in ATTRIBUTES}
        self.critique_button = QPushButton("Write critique")
        self.critique_button.setObjectName("writeCritique")
        self.critique_button.clicked.connect(self._critique_clicked)
        self.critique_status = QLabel()
        self.critique_status.setProperty("role", "muted")
        self.critique_status.setWordWrap(True)

        self.measures_box = QVBoxLayout()
        self.measures_box.setSpacing(2)
        self.no_measures = QLabel("Not analysed yet.")
        self.no_measures.setProperty("role", "muted")
        self.exif_form = QFormLayout()
        self.exif_form.setHorizontalSpacing(10)
        self.exif_form.setVerticalSpacing(2)
        self.measure_rows = MeasureRows(self.measures_box)  # kept from photo to photo (``panel_rows``)
        self.exif_rows = ExifRows(self.exif_form)
        self.others = QLabel()
        self.others.setProperty("role", "muted")
        self.others.setWordWrap(True)

        add = self.body_layout.addWidget
        add(self.preview)
        add(self.title)
        add(self.decisions)
        add(self.stack_note)
        self.body_layout.addLayout(score_row)
        add(self.score_error)
        add(_heading("Attributes"))
        for row in self.attribute_rows.values():
            add(row)
        critique_row = QHBoxLayout()
        critique_row.addWidget(self.critique_button)
        critique_row.addStretch(1)
        self.body_layout.addLayout(critique_row)
        add(self.critique_status)
        add(_heading("Technical"))
        add(self.no_measures)
        self.body_layout.addLayout(self.measures_box)
        self.others_heading = _heading("Other models")
        add(self.others_heading)
        add(self.others)
        add(_heading("Photo"))
        self.body_layout.addLayout(self.exif_form)
        self.body_layout.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self.show_data(None)

    # ------------------------------------------------------------------ content

    def current_id(self) -> int | None:
        return self.data.record.id if self.data is not None else None

    def set_preview(self, pixmap: QPixmap | None) -> None:
        self.preview.set_pixmap(pixmap)

    def show_data(self, data: PhotoDetails | None) -> None:
        same_photo = data is not None and self.data is not None and data.record.id == self.data.record.id
        self.data = data
        if not same_photo:
            self.preview.set_pixmap(None)
        if data is None:
            self.title.setText("No photo selected")
            self.decisions.setText("")
            self.set_burst_note(None)
            self.score.setText(ABSENT)
            self.score_source.setText("")
            self.score.setToolTip("")
            self.score_source.setToolTip("")
            self.score_error.hide()
            for row in self.attribute_rows.values():
                row.show_view(AttributeView(row.attribute, None, None, False, None))
            self._show_measures([])
            self.others_heading.hide()
            self.others.hide()
            self._fill_exif([])
            self._update_critique_button()
            return
        record = data.record
        self.title.setText(record.filename)
        self.title.setToolTip(record.path)
        self.decisions.setText(decision_text(record))
        score, source, error, tip = score_lines(data)
        self.score.setText(score)
        self.score_source.setText(source)
        for label in (self.score, self.score_source):
            label.setToolTip(tip)
        self.score_error.setText(f"Problem: {error}" if error else "")
        self.score_error.setVisible(bool(error))
        if self._streaming_id != record.id:
            for view in attribute_views(data.assessments, data.score_model):
                self.attribute_rows[view.attribute].show_view(view)
        measures = next((a.measures for a in data.assessments if a.measures and a.model == "technical"), ())
        if not measures:
            measures = next((a.measures for a in data.assessments if a.measures), ())
        self._show_measures(list(measures))
        others = [a for a in data.assessments if a.model != data.score_model]
        self.others_heading.setVisible(bool(others))
        self.others.setVisible(bool(others))
        self.others.setText(
            "\n".join(
                f"{a.model} {a.model_version}: {ABSENT if a.score is None else f'{a.score:.1f}'}"
                + (f"  (failed: {a.error})" if a.error else "")
                for a in sorted(others, key=lambda a: a.model)
            )
        )
        self._fill_exif(exif_rows(record))
        self._update_critique_button()

    def set_burst_note(self, text: str | None) -> None:
        """ "kept: the camera's original, not a copy" on a stack's frames; nothing outside stacks."""
        self.stack_note.setText(text or "")
        self.stack_note.setVisible(bool(text))

    def update_record(self, record: PhotoRecord) -> None:
        """A decision changed: refresh the flag/stars line only."""
        if self.data is not None and self.data.record.id == record.id:
            self.data = PhotoDetails(record, self.data.assessments, self.data.score_model)
            self.decisions.setText(decision_text(record))

    def _show_measures(self, measures: Sequence[MeasureRecord]) -> None:
        self.no_measures.setVisible(not measures)
        self.measure_rows.show_measures(measures)

    def _fill_exif(self, rows: Sequence[tuple[str, str]]) -> None:
        self.exif_rows.show_rows(rows)

    # ------------------------------------------------------------------ critique

    def set_critique_model(self, model: str | None, reason: str) -> None:
        """Which installed ArtiMuse model writes critiques, or why none can."""
        self._critique_model = model
        self._critique_reason = reason
        self._update_critique_button()

    def _update_critique_button(self) -> None:
        streaming = self._streaming_id is not None
        if streaming:
            self.critique_button.setText("Stop writing")
            self.critique_button.setEnabled(True)
            self.critique_button.setToolTip("Stop; a half-written critique is not kept")
            return
        self.critique_button.setText("Write critique")
        if self._critique_model is None:
            self.critique_button.setEnabled(False)
            self.critique_button.setToolTip(self._critique_reason)
        else:
            self.critique_button.setEnabled(self.data is not None)
            self.critique_button.setToolTip(f"Ask {self._critique_model} to write a critique of each attribute")

    def _critique_clicked(self) -> None:
        if self._streaming_id is not None:
            self.critique_cancel_requested.emit()
            return
        if self.data is not None:
            self.critique_requested.emit(self.data.record.id)

    def begin_critique(self, photo_id: int) -> None:
        self._streaming_id = photo_id
        if self.current_id() == photo_id:
            for row in self.attribute_rows.values():
                row.set_critique(None)
        self.critique_status.setText("Writing…")
        self._update_critique_button()

    def append_critique(self, photo_id: int, attribute: str, fragment: str) -> None:
        if photo_id == self.current_id() and attribute in self.attribute_rows:
            self.attribute_rows[attribute].append_critique(fragment)

    def end_critique(self, photo_id: int, message: str = "") -> None:
        self._streaming_id = None
        self.critique_status.setText(message)
        self._update_critique_button()
