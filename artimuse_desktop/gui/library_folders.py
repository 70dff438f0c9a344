"""The library's folders from the window: add one (a dialog), open paths given on the command line or by the
system, rescan, and what follows an index run (show the folder that was opened, score what is new)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QFileDialog

from artimuse_desktop.gui import window_settings
from artimuse_desktop.gui.welcome import pictures_folder
from artimuse_desktop.gui.workers import JobResult


class LibraryFolders:
    def __init__(self, window: Any) -> None:
        self.window = window
        self._open_folder_after_index: str | None = None
        window.welcome.add_folder_requested.connect(self.add_folder)
        window.collections.rescan_requested.connect(lambda path: self.start_indexing([path]))
        window.jobs_control.index_progress.connect(self._index_progress)
        window.jobs_control.index_finished.connect(self._index_finished)

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Add a folder of photos", pictures_folder())
        if folder:
            self.add_library_folder(folder)

    def add_library_folder(self, folder: str) -> None:
        self.start_indexing(window_settings.remember_folders(self.window, [folder]))

    def open_paths(self, paths: Sequence[str]) -> None:
        """``artimuse-desktop gui PATH ...``: index the folders (or the photos' folders) and show the first."""
        folders = window_settings.remember_folders(self.window, paths)
        if folders and self.start_indexing(folders):
            self._open_folder_after_index = folders[0]

    def rescan(self) -> None:
        self.start_indexing(self.window.settings.library_folders)

    def start_indexing(self, roots: Sequence[str]) -> bool:
        w = self.window
        started: bool = w.jobs_control.start_indexing(roots, w.settings.cache_max_bytes)
        if started:
            w.welcome.set_status("Indexing…")
        return started

    def _index_progress(self, done: int) -> None:
        w = self.window
        if w.stack.currentWidget() is w.welcome:
            w.welcome.set_progress(done)

    def _index_finished(self, result: JobResult) -> None:
        w = self.window
        w.welcome.set_status("")
        if self._open_folder_after_index:
            w.presenter.select_folder_after_stats = self._open_folder_after_index
            self._open_folder_after_index = None
        if not result.cancelled and not result.error and w.settings.score_after_indexing:
            w.start_scoring()
