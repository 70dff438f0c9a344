"""The main window: collections on the left, filter bar and grid/loupe/compare in the centre, the photo's
assessment on the right, background jobs in the status bar.

The window is wiring. Commands come from the command table (``gui.commands``); questions to the catalog go
through ``ViewLoader``, decisions through ``CullingController``, jobs through ``JobControl``, and all of them
run off the GUI thread on the one ``TaskRunner``. Every operation reports a ``Changes``; ``apply_changes`` is
the one place that decides what to refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QSlider,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from artimuse_desktop import settings as settings_module
from artimuse_desktop.catalog.collections import PhotoDetails, Stats, ViewQuery, choose_score_model
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.records import PhotoRecord
from artimuse_desktop.culling.bursts import burst_note
from artimuse_desktop.gui import window_settings
from artimuse_desktop.gui.changes import Changes
from artimuse_desktop.gui.collections_panel import CollectionsPanel
from artimuse_desktop.gui.command_actions import CommandActions
from artimuse_desktop.gui.commands import COMMANDS
from artimuse_desktop.gui.compare import CompareView
from artimuse_desktop.gui.critique_control import CritiqueControl
from artimuse_desktop.gui.culling import WRITES, CullingController
from artimuse_desktop.gui.dialogs.file_actions import FileActions
from artimuse_desktop.gui.filter_bar import FilterBar
from artimuse_desktop.gui.grid_context_menu import GridContextMenu
from artimuse_desktop.gui.grid_model import PhotoGridModel
from artimuse_desktop.gui.grid_view import MAX_THUMB, MIN_THUMB, GridView
from artimuse_desktop.gui.image_store import ImageStore
from artimuse_desktop.gui.job_control import JobControl
from artimuse_desktop.gui.key_focus import hand_focus_back, install_photo_keys
from artimuse_desktop.gui.loupe import LoupeView
from artimuse_desktop.gui.score_help import ScoreHelp
from artimuse_desktop.gui.side_panel import SidePanel
from artimuse_desktop.gui.tasks import IN_ORDER, TaskRunner
from artimuse_desktop.gui.thumbnail_loader import PREVIEW, ImageLoader
from artimuse_desktop.gui.view_loader import BurstQuery, LoadedView, ViewLoader
from artimuse_desktop.gui.view_modes import ViewModes
from artimuse_desktop.gui.welcome import WelcomeView, pictures_folder
from artimuse_desktop.gui.workers import JobResult
from artimuse_desktop.settings import Settings

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    first_shown = Signal()
    view_reloaded = Signal()
    stats_loaded = Signal()
    bursts_loaded = Signal()
    panel_loaded = Signal(int)

    def __init__(
        self,
        catalog: Catalog,
        settings: Settings | None = None,
        *,
        log_file: Path | None = None,
        settings_path: Path | None = None,
        backend_factory: Callable[[str], Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.settings = settings or Settings()
        self.settings_path = settings_path
        self.setWindowTitle("ArtiMuse Desktop")
        self.setObjectName("mainWindow")
        self._shown_once = False
        self._closing = False
        self._catalog_total: int | None = None
        self._pending_select: int | None = None
        self._keep_for_whole: tuple[list[int], int | None] | None = None  # selection kept for the whole list
        self._select_folder_after_stats: str | None = None
        self._open_folder_after_index: str | None = None

        self.tasks = TaskRunner(self, threads=2)
        self.tasks.failed.connect(lambda channel, message: self.show_error(message, subject=channel))
        self.loader = ImageLoader(self, cache_max_bytes=self.settings.cache_max_bytes)
        self.queries = ViewLoader(catalog, self.tasks, self)
        self._build_widgets()
        self.jobs_control = JobControl(catalog, self.statusBar(), backend_factory=backend_factory, parent=self)
        self.jobs = self.jobs_control.jobs
        self.job_widgets = self.jobs_control.widgets
        self.error_log = self.jobs_control.error_log
        self.error_log.log_file = str(log_file) if log_file else None
        self.culling = CullingController(
            catalog, self.tasks, self.target_ids, auto_advance=lambda: self.settings.auto_advance, parent=self
        )
        self.critiques = CritiqueControl(
            self.jobs, self.side_panel, self.tasks, lambda: self.settings.device, self._photo_name, self
        )
        self.views = ViewModes(self)
        self.commands = CommandActions(self, COMMANDS)
        self.file_actions = FileActions(self)  # export, XMP, trash, reveal, copy path
        self.context_menu = GridContextMenu(self)
        self._connect()
        self._build_status_bar()
        self._build_menus_and_toolbar()
        window_settings.restore_geometry(self)
        self.apply_changes(Changes(view=True, bursts=True))

    # ------------------------------------------------------------------ construction

    def _build_widgets(self) -> None:
        pages = lambda fn, done, failed: self.tasks.submit("grid-page", fn, done, failed)  # noqa: E731
        self.model = PhotoGridModel(self.catalog, self.loader, self, submit=pages)  # one page in flight at a time
        self.images = ImageStore(self.loader, self.model, self)
        self.grid = GridView(thumb_size=self.settings.thumbnail_size)
        self.grid.setModel(self.model)
        self.loupe = LoupeView(self.images)
        self.compare = CompareView(self.images)
        self.welcome = WelcomeView()
        self.stack = QStackedWidget()
        for page in (self.welcome, self.grid, self.loupe, self.compare):
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(self.grid)
        self.filter_bar = FilterBar()
        self.collections = CollectionsPanel()
        self.side_panel = SidePanel()
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(0)
        centre_layout.addWidget(self.filter_bar)
        centre_layout.addWidget(self.stack, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for column in (self.collections, centre, self.side_panel):
            self.splitter.addWidget(column)
        for position, stretch in enumerate((0, 1, 0)):
            self.splitter.setStretchFactor(position, stretch)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([230, 860, 350])
        self.setCentralWidget(self.splitter)
        self.side_panel.setVisible(self.settings.side_panel_visible)

    def _connect(self) -> None:
        self.grid.selectionModel().currentChanged.connect(self._current_changed)
        self.grid.selectionModel().selectionChanged.connect(self._selection_changed)
        self.grid.activated_photo.connect(lambda _pid: self.views.set_view("loupe"))
        self.grid.thumb_size_changed.connect(self._thumb_size_changed)
        self.loupe.move_requested.connect(self.move_current)
        self.compare.active_changed.connect(lambda _pid: self.schedule_panel())
        self.welcome.add_folder_requested.connect(self.add_folder)
        self.filter_bar.changed.connect(self.reload_view)
        self.collections.collection_selected.connect(lambda *_: self.reload_view())
        self.collections.rescan_requested.connect(lambda path: self.start_indexing([path]))
        self.images.updated.connect(self._image_updated)
        self.critiques.message.connect(lambda text, msecs: self.statusBar().showMessage(text, msecs))
        self.critiques.error.connect(self.show_error)
        self.critiques.finished.connect(lambda pid: self.schedule_panel() if pid == self.current_id() else None)
        self.critiques.availability_changed.connect(self._critique_availability)
        self.jobs_control.changed.connect(self.apply_changes)
        self.jobs_control.message.connect(lambda text, msecs: self.statusBar().showMessage(text, msecs))
        self.jobs_control.index_progress.connect(self._index_progress)
        self.jobs_control.index_finished.connect(self._index_finished)
        self.jobs_control.score_finished.connect(lambda _result: self.schedule_panel())
        self.culling.changed.connect(self.apply_changes)
        self.culling.advance_requested.connect(self.move_current)
        self.culling.message.connect(lambda text: self.statusBar().showMessage(text, 4000))
        self.culling.error.connect(self.show_error)
        self.queries.view_loaded.connect(self._view_loaded)
        self.queries.histogram_loaded.connect(self.filter_bar.histogram.set_counts)
        self.queries.stats_loaded.connect(self._stats_loaded)
        self.queries.bursts_loaded.connect(self._bursts_found)
        self.queries.panel_loaded.connect(self._panel_data)
        self.queries.changed_elsewhere.connect(lambda: self.apply_changes(Changes.everything()))
        for view in (self.grid, self.loupe, self.compare):
            view.key_handler = self.commands.keys.handle
        self.photo_keys = install_photo_keys(self)

    def _build_status_bar(self) -> None:
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_THUMB, MAX_THUMB)
        self.size_slider.setValue(self.grid.thumb_size)
        self.size_slider.setFixedWidth(110)
        self.size_slider.setToolTip("Thumbnail size (Ctrl + / Ctrl −)")
        self.size_slider.valueChanged.connect(self.grid.set_thumb_size)
        size_label = QLabel("Thumbnails")
        size_label.setProperty("role", "muted")
        self.statusBar().addPermanentWidget(size_label)
        self.statusBar().addPermanentWidget(self.size_slider)

    def _build_menus_and_toolbar(self) -> None:
        self.commands.build_menus()
        self.collapse_action = self.commands["view.collapse"]
        self.collapse_action.setChecked(self.settings.collapse_bursts)
        self.commands["view.side_panel"].setChecked(self.settings.side_panel_visible)
        themes = self.commands.menus["View"].addMenu("Theme")
        group = QActionGroup(self)
        for name in settings_module.THEMES:
            action = themes.addAction(name.capitalize())
            action.setCheckable(True)
            action.setChecked(name == self.settings.theme)
            action.triggered.connect(lambda _=False, name=name: self.set_theme(name))
            group.addAction(action)
        self.score_model_menu = self.commands.menus["Score"].addMenu("Score shown")
        self.score_model_menu.aboutToShow.connect(self._fill_score_model_menu)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        score_by = QLabel("  Score shown:")
        score_by.setProperty("role", "muted")
        self.score_model_combo = QComboBox()
        self.score_model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.score_model_combo.setMinimumWidth(110)
        self.score_model_combo.activated.connect(
            lambda index: self.set_score_model(self.score_model_combo.itemText(index))
        )
        self.commands.build_toolbar(toolbar, [score_by, self.score_model_combo])
        self.score_help = ScoreHelp(self)  # the score's tooltips and Help ▸ What the score means
        hand_focus_back(self)
        self.commands.update_enabled()

    # ------------------------------------------------------------------ what changed → what to refresh

    def apply_changes(self, changes: Changes) -> None:
        """The one place that turns what an operation changed into refreshes."""
        if changes.photos:
            self.model.forget_thumbnails()
            self.images.forget()
        if changes.scores:
            self.model.refresh_all()
        if changes.photo_ids:
            self._decisions_shown(changes.photo_ids)
        if changes.decisions or changes.photo_ids or changes.needs_view:
            self.queries.forget_histogram()
        if changes.needs_view:
            self.reload_view()
        if changes.bursts or changes.score_model:
            self.refresh_bursts()
        if changes.needs_view or changes.bursts:
            self.refresh_stats()
        elif changes.decisions:
            self.queries.schedule_stats()
        if changes.scores or changes.score_model:
            self.schedule_panel()

    def _decisions_shown(self, photo_ids: frozenset[int]) -> None:
        self.model.refresh_ids(list(photo_ids))
        current = self.current_id()
        record = self.model.record_for_id(current) if current in photo_ids and current is not None else None
        if record is not None:
            self.side_panel.update_record(record)
            if self.views.current == "loupe":
                self.views.show_in_loupe()
        if self.views.current == "compare":
            for pid in photo_ids:
                if (shown := self.model.record_for_id(pid)) is not None:
                    self.compare.update_record(shown)

    # ------------------------------------------------------------------ catalog questions and their answers

    def reload_view(self) -> None:
        """Re-run the current collection + filters + sort off the GUI thread."""
        kind, value = self.collections.selected()
        bursts = self.queries.bursts
        self.queries.reload_view(
            ViewQuery(
                kind=kind,
                value=value,
                bar=self.filter_bar.photo_filter(),
                sort=self.filter_bar.sort_spec(),
                collapse=self.collapse_action.isChecked(),
                burst_ids=bursts.member_ids,
                burst_rest=bursts.rest_ids,
            )
        )

    def _view_loaded(self, view: LoadedView) -> None:
        """The view's head (maybe a partial list: the first screens), then, when it was, the whole list."""
        result = view.result
        keep = self._keep_for_whole
        self._keep_for_whole = None
        if keep is not None and view.ids.complete and self.model.complete_ids(view.ids):
            if keep[1] is not None and self.current_id() is None and not self.grid.restore_selection(*keep):
                self.grid.select_id(view.ids.at(0) or 0)  # the kept photo is not in the view after all
            return self.view_reloaded.emit()
        keep_current = self._pending_select or (keep[1] if keep is not None else None) or self.current_id()
        self._catalog_total = result.catalog_total
        if not view.ids.equals(self.model.id_list()) or result.score_model != self.model.score_model:
            keep_selected = keep[0] if keep is not None else self.grid.selected_ids()
            self.model.set_ids(view.ids, result.score_model, view.page_ids)
            restored = self.grid.restore_selection(keep_selected, keep_current)
            if not restored and len(view.ids) and (view.ids.complete or keep_current is None):
                self.grid.select_id(view.ids.at(0) or 0)
            if not view.ids.complete:  # the kept photo may be further down: tried again with the whole list
                self._keep_for_whole = (keep_selected, None if restored else keep_current)
        else:
            self.model.refresh_all()
        self._pending_select = None
        self.filter_bar.set_counts(len(view.ids), result.collection_total)
        self.views.update_welcome(self._catalog_total == 0)
        if self.current_id() is None:
            self.side_panel.show_data(None)
        self.view_reloaded.emit()

    def refresh_stats(self) -> None:
        self.queries.refresh_stats()

    def _stats_loaded(self, stats: Stats) -> None:
        self.collections.set_counts(stats.counts)
        self.collections.set_folders(stats.folders)
        self.filter_bar.set_sort_names(stats.measures, stats.attributes)
        models = list(dict.fromkeys([stats.score_model, *stats.models]))
        with QSignalBlocker(self.score_model_combo):
            self.score_model_combo.clear()
            self.score_model_combo.addItems(models)
            self.score_model_combo.setCurrentText(stats.score_model)
        folder = self._select_folder_after_stats
        if folder and self.collections.select("folder", folder):
            self._select_folder_after_stats = None
        self.stats_loaded.emit()

    def refresh_bursts(self) -> None:
        sort = self.filter_bar.sort_spec()
        key = sort.key if sort.key == "score" or sort.key.startswith("attr:") else "score"
        self.queries.refresh_bursts(BurstQuery(key, self.settings.burst_seconds, self.settings.burst_distance))

    def _bursts_found(self, membership_changed: bool) -> None:
        bursts = self.queries.bursts
        self.model.set_bursts(bursts.counts, bursts.rest_ids)
        self.commands.update_enabled()
        if membership_changed:
            kind, _ = self.collections.selected()
            if kind == "bursts" or self.collapse_action.isChecked():
                self.reload_view()
            self.queries.schedule_stats()
        self.bursts_loaded.emit()

    def schedule_panel(self) -> None:
        pid = self.current_id()
        self.queries.schedule_panel(pid)
        record = self.model.cached_record(pid) if pid is not None else None  # else the panel's answer asks
        if pid is not None and record is not None:
            if self.side_panel.current_id() != pid:
                self.side_panel.set_preview(self.images.best(pid)[0])
            self.images.request(record, PREVIEW)

    def _panel_data(self, data: PhotoDetails | None) -> None:
        if data is None:
            if self.current_id() is None:
                self.side_panel.show_data(None)
            return
        if data.record.id != self.current_id():
            return
        self.side_panel.show_data(data)
        self.images.request(data.record, PREVIEW)  # a no-op when asked already or loaded
        self.side_panel.set_burst_note(burst_note(self.queries.bursts.by_member, data.record.id))
        pixmap, _ = self.images.best(data.record.id)
        if pixmap is not None:
            self.side_panel.set_preview(pixmap)
        self.panel_loaded.emit(data.record.id)

    def _image_updated(self, photo_id: int, _kind: str) -> None:
        if photo_id == self.side_panel.current_id():
            self.side_panel.set_preview(self.images.best(photo_id)[0])

    # ------------------------------------------------------------------ current photo, selection, views

    def is_idle(self) -> bool:
        """No query running or about to run (tests and the screenshot script wait for this)."""
        return not (self.tasks.busy() or self.queries.busy() or self.filter_bar.pending())

    def current_id(self) -> int | None:
        return self.compare.active_id() if self.views.current == "compare" else self.grid.current_id()

    def current_record(self) -> PhotoRecord | None:
        pid = self.current_id()
        return self.model.record_for_id(pid) if pid is not None else None

    def target_ids(self) -> list[int]:
        """What a decision applies to: every selected photo in the grid, the shown photo elsewhere."""
        if self.views.current == "grid":
            return self.grid.target_ids()
        current = self.current_id()
        return [current] if current is not None else []

    def move_current(self, step: int) -> None:
        if self.views.current == "compare":
            self.compare.move_active(step)
        else:
            self.grid.move_current(step)

    def set_view(self, name: str) -> None:
        self.views.set_view(name)

    def request_view(self, request: str) -> None:
        self.views.request(request)

    def open_compare(self, ids: Sequence[int] | None = None) -> None:
        self.views.open_compare(ids)

    def _current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        if self.views.current == "loupe":
            self.views.show_in_loupe()
        self.schedule_panel()

    def _selection_changed(self, *_: Any) -> None:
        count = self.grid.selected_count()  # from the selection's ranges: O(ranges), not O(rows)
        if count > 1:
            self.statusBar().showMessage(f"{count:,} photos selected", 2000)

    # ------------------------------------------------------------------ operations

    def keep_best_of_bursts(self) -> None:
        from artimuse_desktop.culling.bursts import keep_best_reject_rest

        by_member, selected = self.queries.bursts.by_member, set(self.grid.selected_ids())
        if selected:
            bursts = list({id(b): b for pid in selected if (b := by_member.get(pid))}.values())
        else:
            shown = set(self.model.ids())
            bursts = [b for b in self.queries.bursts.bursts if shown & set(b.photo_ids)]
        if not bursts:
            self.statusBar().showMessage("No burst in the selection", 4000)
            return
        frames, catalog = sum(b.count for b in bursts), self.catalog
        message = (
            f"Kept the best frame of {len(bursts):,} burst(s), rejected {frames - len(bursts):,} frames "
            "(Ctrl+Z undoes it)"
        )
        self.culling.run(
            lambda: keep_best_reject_rest(catalog, bursts),
            lambda _change: self.statusBar().showMessage(message, 6000),
            failure="Could not apply the burst decisions",
        )

    def set_score_model(self, name: str) -> None:
        """Show, sort and filter by another model's score (written off the GUI thread, in order)."""
        catalog = self.catalog
        self.tasks.submit(
            WRITES,
            lambda: choose_score_model(catalog, name),
            lambda _name: self.apply_changes(Changes(score_model=True)),
            lambda text: self.show_error(f"Could not change the score model: {text}"),
            policy=IN_ORDER,
        )

    def _fill_score_model_menu(self) -> None:
        self.score_model_menu.clear()
        for i in range(self.score_model_combo.count()):
            name = self.score_model_combo.itemText(i)
            action: QAction = self.score_model_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name == self.score_model_combo.currentText())
            action.triggered.connect(lambda _=False, name=name: self.set_score_model(name))

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of photos", pictures_folder())
        if folder:
            self.add_library_folder(folder)

    def add_library_folder(self, folder: str) -> None:
        self.start_indexing(window_settings.remember_folders(self, [folder]))

    def open_path(self, path: str) -> None:
        self.open_paths([path])

    def open_paths(self, paths: Sequence[str]) -> None:
        """``artimuse-desktop gui PATH ...``: index the folders (or the photos' folders) and show the first."""
        folders = window_settings.remember_folders(self, paths)
        if folders and self.start_indexing(folders):
            self._open_folder_after_index = folders[0]

    def rescan_library(self) -> None:
        self.start_indexing(self.settings.library_folders)

    def start_indexing(self, roots: Sequence[str]) -> bool:
        started = self.jobs_control.start_indexing(roots, self.settings.cache_max_bytes)
        if started:
            self.welcome.set_status("Indexing…")
        return started

    def _index_progress(self, done: int) -> None:
        if self.stack.currentWidget() is self.welcome:
            self.welcome.set_progress(done)

    def _index_finished(self, result: JobResult) -> None:
        self.welcome.set_status("")
        if self._open_folder_after_index:
            self._select_folder_after_stats, self._open_folder_after_index = self._open_folder_after_index, None
        if not result.cancelled and not result.error and self.settings.score_after_indexing:
            self.start_scoring()

    def start_scoring(
        self, *, rescore: bool = False, ids: Sequence[int] | None = None, model: str | None = None
    ) -> bool:
        name = model or self.settings.default_model
        settings = self.settings
        return self.jobs_control.start_scoring(name, settings.device, settings.batch_size, rescore=rescore, ids=ids)

    def can_critique(self) -> bool:
        return self.critiques.model is not None

    def write_critique(self, photo_id: int | None) -> None:
        self.critiques.write(photo_id)

    def _critique_availability(self) -> None:
        self.commands.update_enabled()
        if self.critiques.model is None:
            self.commands["photo.critique"].setToolTip(self.critiques.reason)

    def has_bursts(self) -> bool:
        return bool(self.queries.bursts.bursts)

    def _photo_name(self, photo_id: int) -> str:
        record = self.model.record_for_id(photo_id)
        return record.filename if record is not None else f"photo {photo_id}"

    def show_error(self, text: str, subject: str = "") -> None:
        self.jobs_control.report_error(text, subject)

    def focus_search(self) -> None:
        self.filter_bar.search.setFocus()
        self.filter_bar.search.selectAll()

    def toggle_collapse(self) -> None:
        self.settings.collapse_bursts = self.collapse_action.isChecked()
        self.apply_changes(Changes(view=True))

    def toggle_side_panel(self) -> None:
        self.settings.side_panel_visible = self.commands["view.side_panel"].isChecked()
        self.side_panel.setVisible(self.settings.side_panel_visible)

    def _thumb_size_changed(self, size: int) -> None:
        with QSignalBlocker(self.size_slider):
            self.size_slider.setValue(size)
        self.settings.thumbnail_size = size

    # ------------------------------------------------------------------ settings (gui.window_settings)

    def save_settings(self) -> None:
        window_settings.save_settings(self)

    def set_theme(self, name: str) -> None:
        window_settings.set_theme(self, name)

    def open_settings(self) -> None:
        chosen = window_settings.open_settings_dialog(self)
        if chosen is not None:
            self.apply_settings(chosen)

    def apply_settings(self, new: Settings) -> None:
        window_settings.apply_settings(self, new)

    # ------------------------------------------------------------------ Qt events

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Keys no child took (focus on the panel, the tree…) still cull, as in Lightroom."""
        if self.stack.currentWidget() is not self.welcome and self.commands.keys.handle(event):
            return
        super().keyPressEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(0, self.first_shown.emit)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closing:
            self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop every background thread and save settings: cancel, quit, wait (queued decisions are written)."""
        if self._closing:
            return
        self._closing = True
        self.queries.stop()
        self.photo_keys.uninstall()
        self.save_settings()
        self.file_actions.cancel_all()
        self.jobs_control.shutdown()
        self.tasks.shutdown()
        self.queries.close()
        self.loader.shutdown()
