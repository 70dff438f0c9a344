"""The side panel's "Write critique" button and its status line.

The button is also the way to stop a critique being written, so it tracks three things: which installed
ArtiMuse model can write (or why none can), which photo is shown, and which photo is streaming now.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class CritiqueControls(QWidget):
    """Emits ``requested(photo_id)`` for the shown photo, or ``cancel_requested`` while one is streaming."""

    requested = Signal(int)
    cancel_requested = Signal()

    def __init__(self, spacing: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model: str | None = None
        self._reason = "Checking which models are installed…"
        self._photo_id: int | None = None
        self.streaming_id: int | None = None
        self.button = QPushButton("Write critique")
        self.button.setObjectName("writeCritique")
        self.button.clicked.connect(self._clicked)
        self.status = QLabel()
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)
        button_row = QHBoxLayout()
        button_row.addWidget(self.button)
        button_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(spacing)
        layout.addLayout(button_row)
        layout.addWidget(self.status)

    def set_photo(self, photo_id: int | None) -> None:
        """The photo a click would critique (None: nothing shown)."""
        self._photo_id = photo_id
        self._update_button()

    def set_model(self, model: str | None, reason: str) -> None:
        """Which installed ArtiMuse model writes critiques, or why none can."""
        self._model = model
        self._reason = reason
        self._update_button()

    def begin(self, photo_id: int) -> None:
        self.streaming_id = photo_id
        self.status.setText("Writing…")
        self._update_button()

    def end(self, message: str = "") -> None:
        self.streaming_id = None
        self.status.setText(message)
        self._update_button()

    def _update_button(self) -> None:
        if self.streaming_id is not None:
            self.button.setText("Stop writing")
            self.button.setEnabled(True)
            self.button.setToolTip("Stop; a half-written critique is not kept")
            return
        self.button.setText("Write critique")
        if self._model is None:
            self.button.setEnabled(False)
            self.button.setToolTip(self._reason)
        else:
            self.button.setEnabled(self._photo_id is not None)
            self.button.setToolTip(f"Ask {self._model} to write a critique of each attribute")

    def _clicked(self) -> None:
        if self.streaming_id is not None:
            self.cancel_requested.emit()
            return
        if self._photo_id is not None:
            self.requested.emit(self._photo_id)
