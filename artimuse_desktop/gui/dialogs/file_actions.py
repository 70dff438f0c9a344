"""The window's operations on files: export, XMP write/read, move rejects to the trash, reveal, copy path.

Each runs the same core code as its command (``export`` → ``export_job``, ``xmp write`` → ``export.xmp``,
``xmp read`` → ``library.sidecars``, ``trash-rejects`` → ``export.trash``) on the window's ``TaskRunner`` and
reports what it changed as a ``Changes``. XMP and trash work goes on the in-order write channel, behind every
decision already queued, so a photo rejected a moment ago is in the sidecar and in the trash count.
Confirmations open without blocking (``open()``); the work starts from their answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox

from artimuse_desktop.gui.changes import Changes
from artimuse_desktop.gui.culling import WRITES, photos_text
from artimuse_desktop.gui.dialogs.export_dialog import ExportDialog
from artimuse_desktop.gui.tasks import IN_ORDER

XMP_STYLE = "lightroom"


def default_export_folder() -> str:
    pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    return str(Path(pictures or Path.home()) / "ArtiMuse export")


def rank_keys(window: Any) -> list[tuple[str, str]]:
    """What "top N" can rank by: the score, attributes and measures, as the sort menu lists them."""
    combo = window.filter_bar.sort.combo
    keys = [(combo.itemText(i), str(combo.itemData(i))) for i in range(combo.count())]
    wanted = [(text, key) for text, key in keys if key == "score" or key.startswith(("attr:", "measure:"))]
    return wanted or [("Score", "score")]


class FileActions(QObject):
    """Owned by the main window; the command table's file rows call these."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.export_dialog: ExportDialog | None = None
        self.confirm: QMessageBox | None = None
        self.last_export_folder = default_export_folder()

    # ------------------------------------------------------------------ export

    def open_export(self, what: str = "picks") -> ExportDialog:
        """File ▸ Export… (``what="picks"``) or the grid's "Export selection…" (``what="selection"``)."""
        window = self.window
        dialog = self.export_dialog
        if dialog is not None and dialog.running():
            dialog.show()
            dialog.raise_()
            return dialog
        if dialog is not None:
            self.last_export_folder = dialog.request().dest or self.last_export_folder
            dialog.deleteLater()
        dialog = ExportDialog(
            window.catalog,
            window.tasks,
            selection_ids=window.grid.selected_ids() if window.views.current == "grid" else window.target_ids(),
            shown_ids=window.model.ids(),
            rank_keys=rank_keys(window),
            dest=self.last_export_folder,
            what=what,
            parent=window,
        )
        dialog.finished_export.connect(lambda outcome: self._say(outcome.summary()))
        self.export_dialog = dialog
        dialog.open()
        return dialog

    def cancel_all(self) -> None:
        """The window is closing: stop a running export (queued decision writes still finish)."""
        if self.export_dialog is not None:
            self.export_dialog.cancel()

    # ------------------------------------------------------------------ XMP

    def write_metadata(self) -> None:
        """Photo ▸ Write metadata (XMP): sidecars for the selection, as ``xmp write`` does."""
        from artimuse_desktop.export.xmp import write_sidecars

        ids, catalog = self.window.target_ids(), self.window.catalog
        if not ids:
            self._say("Select the photos whose metadata to write")
            return

        def done(result: Any) -> None:
            self._say(
                f"XMP: wrote {len(result.written):,} sidecars; {len(result.failed):,} failed, "
                f"{len(result.skipped):,} skipped."
            )
            for problem in result.failed:
                self.window.show_error(f"{problem.path}: {problem.reason}", subject="Write metadata")

        self._write(lambda: write_sidecars(catalog, ids, XMP_STYLE), done, "Could not write metadata")

    def read_metadata(self) -> None:
        """Photo ▸ Read metadata (XMP): decisions from other apps' sidecars where the photo has none."""
        from artimuse_desktop.library.sidecar_import import import_sidecar_decisions
        from artimuse_desktop.library.sidecars import SidecarProblem

        ids, catalog = self.window.target_ids(), self.window.catalog
        if not ids:
            self._say("Select the photos whose metadata to read")
            return
        problems: list[SidecarProblem] = []

        def done(changed: int) -> None:
            self.window.apply_changes(Changes(photo_ids=frozenset(ids), decisions=True))
            self._say(f"XMP: took decisions from sidecars for {photos_text(changed)}; {len(problems):,} unreadable.")
            for problem in problems:
                self.window.show_error(f"{problem.path}: {problem.reason}", subject="Read metadata")

        self._write(lambda: import_sidecar_decisions(catalog, ids, problems=problems), done, "Could not read metadata")

    # ------------------------------------------------------------------ trash

    def trash_rejects(self) -> None:
        """File ▸ Move rejects to trash: count them (after queued decisions), ask, then move."""
        from artimuse_desktop.export.trash import plan_trash

        catalog = self.window.catalog
        self._write(lambda: plan_trash(catalog), self._confirm_trash, "Could not list the rejects")

    def _confirm_trash(self, plan: Any) -> None:
        if plan.count == 0:
            self._say("No rejected photos to move to the trash")
            return
        extra = plan.file_count - plan.count
        sidecars = f" and {extra:,} sidecar" + ("" if extra == 1 else "s") if extra else ""
        box = QMessageBox(self.window)
        box.setObjectName("trashConfirm")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Move rejects to trash")
        box.setText(f"Move {plan.count:,} rejected photo{'' if plan.count == 1 else 's'}{sidecars} to the trash?")
        box.setInformativeText("They go to the system trash, where you can restore them. Nothing is deleted.")
        yes = box.addButton(f"Move {plan.count:,} to trash", QMessageBox.ButtonRole.AcceptRole)
        yes.setObjectName("trashYes")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _code: self._trash_answered(box, yes, plan))
        self.confirm = box
        box.open()

    def _trash_answered(self, box: QMessageBox, yes: Any, plan: Any) -> None:
        self.confirm = None
        box.deleteLater()
        if box.clickedButton() is not yes:
            self._say("Nothing was moved")
            return
        from artimuse_desktop.export.trash import move_rejects_to_trash

        catalog = self.window.catalog

        def done(result: Any) -> None:
            self.window.apply_changes(Changes(photos=True))
            self._say(
                f"Moved {photos_text(len(result.trashed))} ({len(result.files):,} files) to the trash; "
                f"{len(result.failures):,} failed, {len(result.skipped):,} skipped."
            )
            for failure in result.failures:
                self.window.show_error(f"{failure.path}: {failure.reason}", subject="Move to trash")

        self._write(
            lambda: move_rejects_to_trash(catalog, plan, confirm=plan.count), done, "Could not move to the trash"
        )

    # ------------------------------------------------------------------ reveal, copy path

    def target_paths(self) -> list[str]:
        model = self.window.model
        return [r.path for pid in self.window.target_ids() if (r := model.record_for_id(pid)) is not None]

    def reveal(self) -> bool:
        """Open the current photo's folder in the desktop's file manager."""
        record = self.window.current_record()
        if record is None:
            return False
        folder = os.path.dirname(record.path)
        if not os.path.isdir(folder):
            self._say(f"The folder {folder} is not there any more")
            return False
        return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(folder)))

    def copy_path(self) -> str:
        """The selected photos' paths on the clipboard, one a line."""
        text = "\n".join(self.target_paths())
        if text:
            QGuiApplication.clipboard().setText(text)
            count = text.count("\n") + 1
            self._say("Copied the path" if count == 1 else f"Copied {count:,} paths")
        return text

    # ------------------------------------------------------------------ helpers

    def _write(self, work: Callable[[], Any], done: Callable[[Any], None], failure: str) -> None:
        self.window.tasks.submit(
            WRITES, work, done, lambda text: self.window.show_error(f"{failure}: {text}"), policy=IN_ORDER
        )

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)
