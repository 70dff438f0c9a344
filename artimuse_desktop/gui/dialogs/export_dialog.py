"""File ▸ Export…: choose what, how and where, watch a live preview of the names, then run it with progress and
cancel, and end with the summary, the problems and "Show in file manager".

The preview and the export both run on the window's ``TaskRunner``: previews on a newest-wins channel (typing a
template fires many; the latest lands), the export on the in-order ``EXPORTS`` channel, its progress handed to
the GUI thread through ``tasks.gui.call``. The work itself is ``export_job``: the command line's code. The dialog
never blocks: it is opened with ``open()``, and stays alive (hidden) while a cancelled export winds down.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.export.copier import ExportProgress
from artimuse_desktop.gui.dialogs.export_form import ExportForm
from artimuse_desktop.gui.dialogs.export_job import (
    ExportOutcome,
    ExportPreview,
    ExportRequest,
    human_bytes,
    library_warning,
    preview,
    run_export,
)
from artimuse_desktop.gui.tasks import IN_ORDER, NEWEST_WINS, TaskRunner

EXPORTS = "exports"
PREVIEWS = "export-preview"
PREVIEW_DELAY_MS = 150


class ExportDialog(QDialog):
    """Non-blocking export dialog; ``finished_export`` carries the ``ExportOutcome``."""

    preview_shown = Signal(object)  # ExportPreview
    finished_export = Signal(object)  # ExportOutcome
    failed_export = Signal(str)

    def __init__(
        self,
        catalog: Catalog,
        tasks: TaskRunner,
        *,
        selection_ids: Sequence[int],
        shown_ids: Sequence[int],
        rank_keys: Sequence[tuple[str, str]],
        dest: str,
        what: str = "picks",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        self.setMinimumWidth(620)
        self.catalog = catalog
        self.tasks = tasks
        self.token: CancelToken | None = None
        self.outcome: ExportOutcome | None = None
        self.last_preview: ExportPreview | None = None
        self.form = ExportForm(
            selection_ids=selection_ids, shown_ids=shown_ids, rank_keys=rank_keys, dest=dest, what=what
        )
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.refresh_preview)
        self.form.changed.connect(self._preview_timer.start)

        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setObjectName("exportStatus")
        self.status.setWordWrap(True)
        self.problems = QListWidget()
        self.problems.setObjectName("exportProblems")
        self.problems.setVisible(False)
        self.problems.setMaximumHeight(140)
        self.show_button = QPushButton("Show in file manager")
        self.show_button.setVisible(False)
        self.show_button.clicked.connect(self.show_in_file_manager)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_or_close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.problems)
        layout.addLayout(buttons)
        self.refresh_preview()

    # ------------------------------------------------------------------ preview

    def request(self) -> ExportRequest:
        return self.form.request()

    def refresh_preview(self) -> None:
        self._preview_timer.stop()
        catalog, request = self.catalog, self.request()
        self.tasks.submit(
            PREVIEWS,
            lambda: preview(catalog, request),
            self._show_preview,
            lambda text: self._show_preview(ExportPreview(error=text)),
            policy=NEWEST_WINS,
        )

    def _show_preview(self, shown: ExportPreview) -> None:
        self.last_preview = shown
        if shown.error:
            self.form.preview.setText(f"<span style='color:#e06c5a'>{shown.error}</span>")
        elif not shown.count:
            self.form.preview.setText("No photo to export" + (f" ({shown.skipped:,} skipped)" if shown.skipped else ""))
        else:
            more = "<br>…" if shown.count > len(shown.names) else ""
            photos = f"{shown.count:,} photo" + ("" if shown.count == 1 else "s")
            head = f"{photos}, {shown.files:,} files, {human_bytes(shown.total_bytes)}"
            if shown.skipped:
                head += f" ({shown.skipped:,} skipped)"
            if shown.already_there:
                head += f"; {shown.already_there:,} already there from an earlier export (identical), not copied again"
            text = head + "<br>" + "<br>".join(_escape(n) for n in shown.names) + more
            if shown.library_root:
                warning = library_warning(self.request().dest, shown.library_root)
                text = f"<span style='color:#e0a84e'>{_escape(warning)}</span><br>{text}"
            self.form.preview.setText(text)
        self.form.force.setVisible(bool(shown.library_root) and not shown.error)
        blocked = bool(shown.library_root) and not self.form.force.isChecked()
        if not self.running():
            self.export_button.setEnabled(not shown.error and shown.count > 0 and not blocked)
        self.preview_shown.emit(shown)

    def busy(self) -> bool:
        """A preview or the export has not answered yet (tests wait on this)."""
        return self._preview_timer.isActive() or self.tasks.pending(PREVIEWS) or self.running()

    # ------------------------------------------------------------------ running

    def running(self) -> bool:
        return self.token is not None

    def start(self) -> None:
        """Run the export off the GUI thread; progress comes back through ``tasks.gui``."""
        if self.running():
            return
        request = self.request()
        token = self.token = CancelToken()
        catalog, gui = self.catalog, self.tasks.gui
        self.outcome = None
        self.form.setEnabled(False)
        self.export_button.setEnabled(False)
        self.show_button.setVisible(False)
        self.problems.clear()
        self.problems.setVisible(False)
        self.cancel_button.setText("Cancel")
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.status.setText("Preparing the export…")

        def report(step: ExportProgress) -> None:  # on the pool thread
            gui.call(lambda: self._progressed(step))

        self.tasks.submit(
            EXPORTS, lambda: run_export(catalog, request, token, report), self._done, self._failed, policy=IN_ORDER
        )

    def _progressed(self, step: ExportProgress) -> None:
        if not self.running():
            return
        self.progress.setRange(0, max(1, step.total_items))
        self.progress.setValue(step.done_items)
        if step.current:
            self.status.setText(f"{step.done_items:,} of {step.total_items:,}: {step.current}")

    def cancel(self) -> None:
        """Stop a running export; what is half-written is removed by the copier."""
        if self.token is not None:
            self.token.cancel()
            self.status.setText("Cancelling…")

    def cancel_or_close(self) -> None:
        if self.running():
            self.cancel()
        else:
            self.reject()

    def reject(self) -> None:
        self.cancel()  # closing the dialog (Esc, the title bar) stops the export too
        super().reject()

    def _finish(self) -> None:
        self.token = None
        self.form.setEnabled(True)
        self.progress.setVisible(False)
        self.cancel_button.setText("Close")
        self.export_button.setText("Export again")
        self.export_button.setEnabled(True)

    def _done(self, outcome: ExportOutcome) -> None:
        self._finish()
        self.outcome = outcome
        self.status.setText(outcome.summary())
        self.show_button.setVisible(outcome.exported > 0 or bool(outcome.reports))
        self._list_problems(outcome.problems)
        self.refresh_preview()  # photos now in DEST show as already there
        self.finished_export.emit(outcome)

    def _failed(self, text: str) -> None:
        self._finish()
        self.status.setText("The export did not run.")
        self._list_problems(text.splitlines())
        self.failed_export.emit(text)

    def _list_problems(self, lines: Sequence[str]) -> None:
        self.problems.clear()
        self.problems.addItems(list(lines))
        self.problems.setVisible(bool(lines))

    def show_in_file_manager(self) -> bool:
        folder = self.outcome.dest if self.outcome is not None else self.request().dest
        return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
