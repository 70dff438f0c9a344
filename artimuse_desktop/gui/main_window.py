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
from PySide6.QtGui import QActionGroup, QCloseEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QSlider,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from artimuse_desktop import settings as settings_module
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.records import PhotoRecord
from artimuse_desktop.gui import window_settings
from artimuse_desktop.gui.changes import Changes
from artimuse_desktop.gui.collections_panel import CollectionsPanel
from artimuse_desktop.gui.command_actions import CommandActions
from artimuse_desktop.gui.commands import COMMANDS
from artimuse_desktop.gui.compare import CompareView
from artimuse_desktop.gui.critique_control import CritiqueControl
from artimuse_desktop.gui.culling import CullingController
from artimuse_desktop.gui.dialogs.file_actions import FileActions
from artimuse_desktop.gui.filter_bar import FilterBar
from artimuse_desktop.gui.grid_context_menu import GridContextMenu
from artimuse_desktop.gui.grid_model import PhotoGridModel
from artimuse_desktop.gui.grid_view import MAX_THUMB, MIN_THUMB, GridView
from artimuse_desktop.gui.image_store import ImageStore
from artimuse_desktop.gui.job_control import JobControl
from artimuse_desktop.gui.key_focus import hand_focus_back, install_photo_keys
from artimuse_desktop.gui.library_folders import LibraryFolders
from artimuse_desktop.gui.loupe import LoupeView
from artimuse_desktop.gui.score_help import ScoreHelp
from artimuse_desktop.gui.score_model_choice import ScoreModelChoice
from artimuse_desktop.gui.side_panel import SidePanel
from artimuse_desktop.gui.tasks import TaskRunner
from artimuse_desktop.gui.thumbnail_loader import ImageLoader
from artimuse_desktop.gui.view_loader import ViewLoader
from artimuse_desktop.gui.view_modes import ViewModes
from artimuse_desktop.gui.view_presenter import ViewPresenter
from artimuse_desktop.gui.welcome import WelcomeView
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
            self.jobs,
            self.side_panel,
            self.tasks,
            lambda: self.settings.device,
            self._photo_name,
            self,
            length=lambda: self.settings.critique_max_new_tokens,
        )
        self.views = ViewModes(self)
        self.commands = CommandActions(self, COMMANDS)
        self.file_actions = FileActions(self)  # export, XMP, trash, reveal, copy path
        self.context_menu = GridContextMenu(self)
        self.presenter = ViewPresenter(self)  # catalog questions and their answers
        self.folders = LibraryFolders(self)  # add, open, rescan
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
        self.filter_bar.changed.connect(self.reload_view)
        self.collections.collection_selected.connect(lambda *_: self.reload_view())
        self.critiques.message.connect(lambda text, msecs: self.statusBar().showMessage(text, msecs))
        self.critiques.error.connect(self.show_error)
        self.critiques.finished.connect(lambda pid: self.schedule_panel() if pid == self.current_id() else None)
        self.critiques.availability_changed.connect(self._critique_availability)
        self.jobs_control.changed.connect(self.apply_changes)
        self.jobs_control.message.connect(lambda text, msecs: self.statusBar().showMessage(text, msecs))
        self.jobs_control.score_finished.connect(lambda _result: self.schedule_panel())
        self.culling.changed.connect(self.apply_changes)
        self.culling.advance_requested.connect(self.move_current)
        self.culling.message.connect(lambda text: self.statusBar().showMessage(text, 4000))
        self.culling.error.connect(self.show_error)
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
        themes = self.commands.add_menu(self.commands.menus["View"], "Theme")
        group = QActionGroup(self)
        for name in settings_module.THEMES:
            action = themes.addAction(name.capitalize())
            action.setCheckable(True)
            action.setChecked(name == self.settings.theme)
            action.triggered.connect(lambda _=False, name=name: self.set_theme(name))
            group.addAction(action)
        self.score_models = ScoreModelChoice(
            self.catalog, self.tasks, self.commands.add_menu(self.commands.menus["Score"], "Score shown"), self
        )
        self.score_models.changed.connect(lambda: self.apply_changes(Changes(score_model=True)))
        self.score_models.failed.connect(self.show_error)
        self.score_model_combo = self.score_models.combo
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        self.commands.build_toolbar(toolbar, self.score_models.toolbar_widgets())
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
        elif changes.ratings:
            self.presenter.rejudge_bursts(changes.photo_ids)
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
        """Re-run the current collection + filters + sort off the GUI thread (``gui.view_presenter``)."""
        self.presenter.reload_view()

    def refresh_stats(self) -> None:
        self.queries.refresh_stats()

    def refresh_bursts(self) -> None:
        self.presenter.refresh_bursts()

    def schedule_panel(self) -> None:
        self.presenter.schedule_panel()

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
        """The bursts among the selection (or, with none, the view's) keep their best frame."""
        bursts, selected = self.queries.bursts, set(self.grid.selected_ids())
        if selected:
            chosen = list({id(b): b for pid in selected if (b := bursts.by_member.get(pid))}.values())
        else:
            shown = set(self.model.ids())
            chosen = [b for b in bursts.bursts if shown & set(b.photo_ids)]
        self.culling.keep_best_of_bursts(chosen)

    def set_score_model(self, name: str) -> None:
        """Show, sort and filter by another model's score (written off the GUI thread, in order)."""
        self.score_models.choose(name)

    def open_paths(self, paths: Sequence[str]) -> None:
        """Index the folders (or the photos' folders) and show the first (``gui.library_folders``)."""
        self.folders.open_paths(paths)

    def start_indexing(self, roots: Sequence[str]) -> bool:
        return self.folders.start_indexing(roots)

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
