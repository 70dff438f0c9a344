"""Status-bar widgets: one row per running background job (indexing, scoring) with photos/s, ETA, pause and
cancel, and an error button that lists what went wrong with which photo."""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from artimuse_desktop.formatting import format_duration
from artimuse_desktop.gui.workers import JobProgress


def progress_text(progress: JobProgress) -> str:
    parts = [progress.label]
    if progress.total:
        parts.append(f"{progress.done:,} / {progress.total:,}")
    if progress.rate > 0:
        parts.append(f"{progress.rate:.1f} photos/s")
    eta = format_duration(progress.eta_s, unknown="")
    if eta and progress.total and progress.done < progress.total:
        parts.append(f"ETA {eta}")
    if progress.failed:
        parts.append(f"{progress.failed} failed")
    return "  ·  ".join(parts)


class JobStatus(QWidget):
    """One background job: text, a bar, pause/resume and cancel."""

    pause_toggled = Signal(str, bool)  # job, paused
    cancel_requested = Signal(str)

    def __init__(self, job: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.setObjectName(f"job-{job}")
        self.label = QLabel()
        self.label.setProperty("role", "muted")
        self.bar = QProgressBar()
        self.bar.setFixedWidth(140)
        self.bar.setFixedHeight(12)
        self.bar.setTextVisible(False)
        self.pause_button = QToolButton()
        self.pause_button.setText("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(lambda: self.cancel_requested.emit(self.job))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(6)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.pause_button)
        layout.addWidget(self.cancel_button)
        self.last: JobProgress | None = None
        self.hide()

    def update_progress(self, progress: JobProgress) -> None:
        self.last = progress
        text = progress_text(progress)
        if self.pause_button.isChecked():
            text += "  ·  paused"
        self.label.setText(text)
        if progress.current:
            self.label.setToolTip(progress.current)
        if progress.total:
            self.bar.setRange(0, progress.total)
            self.bar.setValue(progress.done)
        else:
            self.bar.setRange(0, 0)  # busy indicator while counting
        self.show()

    def finish(self) -> None:
        self.pause_button.setChecked(False)
        self.last = None
        self.hide()

    def _pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_toggled.emit(self.job, paused)
        if self.last is not None:
            self.update_progress(self.last)


class ErrorLog(QWidget):
    """A button in the status bar that counts recent problems and lists them (photo and reason)."""

    def __init__(self, parent: QWidget | None = None, keep: int = 500) -> None:
        super().__init__(parent)
        self.entries: deque[tuple[str, str]] = deque(maxlen=keep)
        self.button = QToolButton()
        self.button.setProperty("role", "flat")
        self.button.clicked.connect(self.show_dialog)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        self.log_file: str | None = None
        self.hide()

    def add(self, subject: str, reason: str) -> None:
        self.entries.append((subject, reason))
        count = len(self.entries)
        self.button.setText(f"⚠ {count} problem" + ("" if count == 1 else "s"))
        self.button.setToolTip(f"{subject}: {reason}")
        self.show()

    def clear(self) -> None:
        self.entries.clear()
        self.hide()

    def show_dialog(self) -> None:
        dialog = QDialog(self.window())
        dialog.setWindowTitle("Problems")
        dialog.resize(760, 420)
        table = QTableWidget(len(self.entries), 2, dialog)
        table.setHorizontalHeaderLabels(["Photo", "Reason"])
        table.verticalHeader().hide()
        table.horizontalHeader().setStretchLastSection(True)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (subject, reason) in enumerate(reversed(self.entries)):
            table.setItem(row, 0, QTableWidgetItem(subject))
            table.setItem(row, 1, QTableWidgetItem(reason))
        table.resizeColumnToContents(0)
        note = QLabel(f"Details are in the log: {self.log_file}" if self.log_file else "")
        note.setProperty("role", "muted")
        note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        clear = buttons.addButton("Clear", QDialogButtonBox.ButtonRole.ResetRole)

        def clear_and_close() -> None:
            self.clear()
            dialog.accept()

        clear.clicked.connect(clear_and_close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        layout.addWidget(note)
        layout.addWidget(buttons)
        dialog.exec()
