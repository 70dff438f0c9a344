"""The side panel's attribute table: the eight ArtiMuse attributes, each with a 0–100 bar and its critique.

An attribute a model did not score is shown as absent ("—", no bar), never as 0: a 0 would read as a verdict.
Each number carries a small tag naming the model that gave it ("technical", "artimuse") and a tooltip with the
model's version, so the built-in analyzer's number is not read as an ArtiMuse judgement beside an ArtiMuse
critique. Attribute scores a model marks experimental carry that word. A critique can grow fragment by fragment while
it streams in from the scoring worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from artimuse_desktop.gui.score_help import attribute_tooltip, model_family
from artimuse_desktop.gui.theme import set_role

#: What the panel shows for a value nobody measured.
ABSENT = "—"


@dataclass(frozen=True)
class AttributeView:
    """One attribute as shown: its score and critique (each possibly absent) and the model they came from."""

    attribute: str
    score: float | None
    critique: str | None
    experimental: bool
    model: str | None
    versions: tuple[str, ...] = ()  # of ``model``'s assessment, for the tooltip
    critique_model: str | None = None


class ScoreBar(QWidget):
    """A 0–100 bar; an absent score draws an empty track and the text "—"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value: float | None = None
        self.setFixedHeight(8)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_value(self, value: float | None) -> None:
        self.value = value
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rect = QRectF(self.rect()).adjusted(0, 1, 0, -1)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(rect, 3, 3)
        if self.value is not None:
            fill = QRectF(rect)
            fill.setWidth(rect.width() * max(0.0, min(100.0, self.value)) / 100.0)
            painter.setBrush(palette.color(QPalette.ColorRole.Text))
            painter.drawRoundedRect(fill, 3, 3)
        painter.end()


class AttributeRow(QWidget):
    """Name, "experimental" tag, the model tag and value on one line, the bar under them, the critique (and who
    wrote it, when not the number's model) under that."""

    def __init__(self, attribute: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.attribute = attribute
        self.name = QLabel(attribute)
        self.name.setWordWrap(True)
        self.value = QLabel(ABSENT)
        self.value.setObjectName("attributeValue")
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value.setMinimumWidth(34)
        self.tag = QLabel("experimental")
        set_role(self.tag, "tag")
        self.tag.setToolTip("This model's score for this attribute is experimental: treat it as a hint.")
        self.tag.hide()
        self.source = QLabel()  # which model gave the number: "technical", "artimuse"
        self.source.setObjectName("attributeSource")
        set_role(self.source, "tag")
        self.source.hide()
        self.bar = ScoreBar()
        self.critique = QLabel()
        self.critique.setProperty("role", "critique")
        self.critique.setWordWrap(True)
        self.critique.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.critique.hide()
        self.critique_by = QLabel()
        self.critique_by.setProperty("role", "muted")
        self.critique_by.hide()
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(6)
        top.addWidget(self.name, 1)
        middle = Qt.AlignmentFlag.AlignVCenter
        top.addWidget(self.tag, 0, middle)  # tags keep their height when the name wraps
        top.addWidget(self.source, 0, middle)
        top.addWidget(self.value)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 3, 0, 3)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.bar)
        layout.addWidget(self.critique)
        layout.addWidget(self.critique_by)

    def show_view(self, view: AttributeView) -> None:
        scored = view.score is not None
        self.value.setText(f"{view.score:.1f}" if view.score is not None else ABSENT)
        tip = attribute_tooltip(self.attribute, view.model if scored else None, view.versions, view.critique_model)
        for label in (self.value, self.source, self.name):
            label.setToolTip(tip)
        self.source.setText(model_family(view.model) if scored else "")
        self.source.setVisible(scored)
        self.bar.set_value(view.score)
        self.tag.setVisible(scored and view.experimental)
        self.set_critique(view.critique)
        # A critique by a model other than the number's says whose it is (a technical 71 beside an ArtiMuse text).
        number_by = view.model if scored else None
        other = view.critique_model if view.critique and view.critique_model != number_by else None
        self.critique_by.setText(f"critique by {other}" if other else "")
        self.critique_by.setVisible(bool(other))

    def set_critique(self, text: str | None) -> None:
        self.critique.setText(text or "")
        self.critique.setVisible(bool(text))

    def append_critique(self, fragment: str) -> None:
        self.critique.setText(self.critique.text() + fragment)
        self.critique.setVisible(True)
