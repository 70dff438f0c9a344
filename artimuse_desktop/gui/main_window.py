"""The main window: collections on the left, filter bar and grid/loupe/compare in the centre, the photo's
assessment on the right, background jobs in the status bar.

The window owns the wiring, not the work: queries run through ``TaskRunner`` (newest answer wins), images
through ``ImageLoader``, scoring and indexing through ``BackgroundJobs``, and decisions through
``CullingController``. Everything that reaches a widget is plain data.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QItemSelection, QModelIndex, QSignalBlocker, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDesktopServices,
    QKeyEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSlider,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from artimuse_desktop import settings as settings_module
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import STATUS_ERROR, STATUS_MISSING, STATUS_OK
from artimuse_desktop.catalog.queries import PhotoFilter, PhotoRecord, SortSpec
from artimuse_desktop.culling.decisions import DecisionChange
from artimuse_desktop.gui.actions import KEY_HELP, LARGE_BATCH, CullingController
from artimuse_desktop.gui.collections_panel import SMART_COLLECTIONS, CollectionsPanel
from artimuse_desktop.gui.compare import MAX_PANES, CompareView
from artimuse_desktop.gui.filter_bar import FilterBar
from artimuse_desktop.gui.grid_model import PhotoGridModel
from artimuse_desktop.gui.grid_view import MAX_THUMB, MIN_THUMB, GridView
from artimuse_desktop.gui.image_store import ImageStore
from artimuse_desktop.gui.job_status import ErrorLog, JobStatus
from artimuse_desktop.gui.loupe import LoupeView
from artimuse_desktop.gui.side_panel import PanelData, SidePanel
from artimuse_desktop.gui.tasks import TaskRunner
from artimuse_desktop.gui.thumbnail_loader import PREVIEW, ImageLoader
from artimuse_desktop.gui.welcome import WelcomeView
from artimuse_desktop.gui.workers import INDEX, SCORE, BackgroundJobs, JobProgress, JobResult
from artimuse_desktop.settings import Settings

log = logging.getLogger(__name__)

ALL_STATUSES = {STATUS_OK, STATUS_ERROR, STATUS_MISSING}


# --------------------------------------------------------------------------------------------- query helpers


def merge_filters(a: PhotoFilter, b: PhotoFilter) -> PhotoFilter:
    """Both filters at once (AND): sets intersect, lower bounds take the larger, upper the smaller."""

    def both_sets(x: Any, y: Any) -> Any:
        if x is None:
            return y
        if y is None:
            return x
        return set(x) & set(y)

    def bigger(x: Any, y: Any) -> Any:
        return y if x is None else x if y is None else max(x, y)

    def smaller(x: Any, y: Any) -> Any:
        return y if x is None else x if y is None else min(x, y)

    ids: Sequence[int] | None
    if a.ids is None:
        ids = b.ids
    elif b.ids is None:
        ids = a.ids
    else:
        keep = set(b.ids)
        ids = [i for i in a.ids if i in keep]
    merged = PhotoFilter(
        folder=a.folder or b.folder,
        recursive=a.recursive and b.recursive,
        flags=both_sets(a.flags, b.flags),
        min_rating=bigger(a.min_rating, b.min_rating),
        max_rating=smaller(a.max_rating, b.max_rating),
        color_labels=both_sets(a.color_labels, b.color_labels),
        camera=a.camera or b.camera,
        lens=a.lens or b.lens,
        date_from=bigger(a.date_from, b.date_from),
        date_to=smaller(a.date_to, b.date_to),
        statuses=both_sets(a.statuses, b.statuses),
        min_score=bigger(a.min_score, b.min_score),
        max_score=smaller(a.max_score, b.max_score),
        scored=a.scored if a.scored is not None else b.scored,
        attr_min={**a.attr_min, **b.attr_min},
        attr_max={**a.attr_max, **b.attr_max},
        measure_min={**a.measure_min, **b.measure_min},
        measure_max={**a.measure_max, **b.measure_max},
        search=" ".join(s for s in (a.search, b.search) if s) or None,
        ids=ids,
    )
    if merged.flags is not None and not merged.flags:
        merged.ids = []  # contradictory flags: nothing matches
    if merged.color_labels is not None and not merged.color_labels:
        merged.ids = []
    if merged.statuses is not None and not merged.statuses:
        merged.ids = []
    return merged


def collection_filter(session: Any, kind: str, value: object, burst_ids: Sequence[int]) -> PhotoFilter:
    """The PhotoFilter of a smart collection or folder (runs on a worker thread, inside its session)."""
    from sqlalchemy import or_, select

    from artimuse_desktop.catalog.models import Assessment, Photo
    from artimuse_desktop.catalog.queries import score_percentile

    if kind == "picks":
        return PhotoFilter(flags={1})
    if kind == "rejects":
        return PhotoFilter(flags={-1})
    if kind == "unrated":
        return PhotoFilter(flags={0}, max_rating=0)
    if kind == "top10":
        threshold = score_percentile(session, 0.1)
        return PhotoFilter(min_score=threshold) if threshold is not None else PhotoFilter(ids=[])
    if kind == "bursts":
        return PhotoFilter(ids=list(burst_ids))
    if kind == "missing":
        return PhotoFilter(statuses={STATUS_MISSING})
    if kind == "errors":
        failed = select(Assessment.photo_id).where(Assessment.current.is_(True), Assessment.error.is_not(None))
        ids = list(
            session.execute(select(Photo.id).where(or_(Photo.status == STATUS_ERROR, Photo.id.in_(failed)))).scalars()
        )
        return PhotoFilter(ids=ids, statuses=set(ALL_STATUSES))
    if kind == "folder" and value:
        return PhotoFilter(folder=str(value))
    return PhotoFilter()


@dataclass(frozen=True)
class ViewQuery:
    kind: str
    value: object
    bar: PhotoFilter
    sort: SortSpec
    collapse: bool
    burst_ids: tuple[int, ...] = ()
    burst_rest: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ViewResult:
    ids: list[int]
    collection_total: int
    catalog_total: int
    histogram: list[float]
    score_model: str


@dataclass(frozen=True)
class Stats:
    counts: dict[str, int]
    folders: list[tuple[str, int]]
    measures: list[str]
    models: list[str]
    score_model: str


@dataclass
class BurstState:
    bursts: list[Any] = field(default_factory=list)
    by_member: dict[int, Any] = field(default_factory=dict)

    @property
    def member_ids(self) -> tuple[int, ...]:
        return tuple(pid for burst in self.bursts for pid in burst.photo_ids)

    @property
    def rest_ids(self) -> frozenset[int]:
        return frozenset(pid for burst in self.bursts for pid in burst.rest)


def run_view_query(catalog: Catalog, query: ViewQuery) -> ViewResult:
    from artimuse_desktop.catalog.queries import count_photos, get_score_model, photo_ids, score_values

    with catalog.read() as session:
        model = get_score_model(session)
        base = collection_filter(session, query.kind, query.value, query.burst_ids)
        flt = merge_filters(base, query.bar)
        ids = photo_ids(session, flt, query.sort, score_model=model)
        if query.collapse and query.burst_rest:
            ids = [pid for pid in ids if pid not in query.burst_rest]
        total = count_photos(session, base, score_model=model)
        everything = count_photos(session, PhotoFilter(), score_model=model)
        without_score = replace(flt, min_score=None, max_score=None)
        histogram = score_values(session, without_score, score_model=model)
    return ViewResult(ids, total, everything, histogram, model)


def run_stats(catalog: Catalog, burst_ids: Sequence[int]) -> Stats:
    from artimuse_desktop.catalog.queries import (
        count_photos,
        folder_counts,
        get_score_model,
        measure_names,
        model_names,
    )

    with catalog.read() as session:
        model = get_score_model(session)
        counts: dict[str, int] = {}
        for kind, _, _ in SMART_COLLECTIONS:
            if kind == "bursts":
                counts[kind] = len(burst_ids)
                continue
            counts[kind] = count_photos(session, collection_filter(session, kind, None, burst_ids), score_model=model)
        return Stats(counts, folder_counts(session), measure_names(session), model_names(session), model)


def load_panel(catalog: Catalog, photo_id: int) -> PanelData | None:
    from artimuse_desktop.catalog.queries import assessments_for, get_score_model, records_by_ids

    with catalog.read() as session:
        model = get_score_model(session)
        records = records_by_ids(session, [photo_id], score_model=model)
        if not records:
            return None
        return PanelData(records[0], tuple(assessments_for(session, photo_id)), model)


def critique_backend() -> tuple[str | None, str, list[Any]]:
    """(an available ArtiMuse model or None, why not, every backend's info): cheap, imports no model."""
    try:
        from artimuse_desktop.scoring.registry import list_backends

        infos = list_backends()
    except Exception as exc:
        log.info("model discovery failed: %s", exc)
        return None, "ArtiMuse support is not installed (pip install 'artimuse-desktop[artimuse]').", []
    artimuse = [info for info in infos if info.name == "artimuse" or info.name.startswith("artimuse:")]
    available = [info for info in artimuse if info.available]
    if available:
        return available[0].name, "", infos
    reason = artimuse[0].reason if artimuse else "No ArtiMuse model is installed."
    return None, f"Writing critiques needs an ArtiMuse model: {reason}", infos


# --------------------------------------------------------------------------------------------- the window


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
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.settings = settings or Settings()
        self.settings_path = settings_path
        self.log_file = log_file
        self.setWindowTitle("ArtiMuse Desktop")
        self.setObjectName("mainWindow")
        self._shown_once = False
        self._closing = False
        self._view = "grid"
        self._catalog_total: int | None = None
        self._bursts = BurstState()
        self._backend_infos: list[Any] = []
        self._critique_model: str | None = None
        self._pending_select: int | None = None
        self._index_progressed = False
        self._score_progressed = False

        # background machinery
        self.tasks = TaskRunner(self, threads=2)
        self.tasks.failed.connect(lambda channel, message: self.show_error(message, subject=channel))
        self.loader = ImageLoader(self, cache_max_bytes=self.settings.cache_max_bytes)
        self.jobs = BackgroundJobs(catalog, self)
        self.jobs.progress.connect(self._job_progress)
        self.jobs.finished.connect(self._job_finished)

        # widgets
        self.model = PhotoGridModel(catalog, self.loader, self)
        self.images = ImageStore(self.loader, self.model, self)
        self.grid = GridView(thumb_size=self.settings.thumbnail_size)
        self.grid.setModel(self.model)
        self.grid.selectionModel().currentChanged.connect(self._current_changed)
        self.grid.selectionModel().selectionChanged.connect(self._selection_changed)
        self.grid.activated_photo.connect(lambda _pid: self.set_view("loupe"))
        self.grid.thumb_size_changed.connect(self._thumb_size_changed)
        self.loupe = LoupeView(self.images)
        self.loupe.move_requested.connect(self.move_current)
        self.compare = CompareView(self.images)
        self.compare.active_changed.connect(self._compare_active_changed)
        self.welcome = WelcomeView()
        self.welcome.add_folder_requested.connect(self.add_folder)
        self.stack = QStackedWidget()
        for page in (self.welcome, self.grid, self.loupe, self.compare):
            self.stack.addWidget(page)
        self.stack.setCurrentWidget(self.grid)

        self.filter_bar = FilterBar()
        self.filter_bar.changed.connect(self.reload_view)
        self.collections = CollectionsPanel()
        self.collections.collection_selected.connect(lambda *_: self.reload_view())
        self.collections.rescan_requested.connect(lambda path: self.start_indexing([path]))
        self.side_panel = SidePanel()
        self.side_panel.critique_requested.connect(self.write_critique)
        self.side_panel.critique_cancel_requested.connect(lambda: self.jobs.cancel("critique"))
        self.images.updated.connect(self._image_updated)
        self.jobs.critique_started.connect(self.side_panel.begin_critique)
        self.jobs.critique_token.connect(self.side_panel.append_critique)
        self.jobs.critique_finished.connect(self._critique_finished)

        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(0, 0, 0, 0)
        centre_layout.setSpacing(0)
        centre_layout.addWidget(self.filter_bar)
        centre_layout.addWidget(self.stack, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.collections)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(self.side_panel)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([230, 860, 350])
        self.setCentralWidget(self.splitter)
        self.side_panel.setVisible(self.settings.side_panel_visible)

        # culling
        self.culling = CullingController(
            catalog, self.target_ids, auto_advance=lambda: self.settings.auto_advance, parent=self
        )
        self.culling.changed.connect(self._decisions_changed)
        self.culling.view_requested.connect(self._view_requested)
        self.culling.advance_requested.connect(self.move_current)
        self.culling.message.connect(lambda text: self.statusBar().showMessage(text, 4000))
        self.culling.error.connect(self.show_error)
        self.culling.busy_changed.connect(
            lambda busy: self.statusBar().showMessage("Saving decisions…") if busy else None
        )
        self.grid.key_handler = self.culling.handle_key
        self.loupe.key_handler = self.culling.handle_key
        self.compare.key_handler = self.culling.handle_key

        self._build_status_bar()
        self._build_actions()
        self._stats_timer = QTimer(self)
        self._stats_timer.setSingleShot(True)
        self._stats_timer.setInterval(400)
        self._stats_timer.timeout.connect(self.refresh_stats)
        self._panel_timer = QTimer(self)
        self._panel_timer.setSingleShot(True)
        self._panel_timer.setInterval(40)
        self._panel_timer.timeout.connect(self._load_panel)
        self._live_timer = QTimer(self)  # while jobs run: show new photos and scores as they land
        self._live_timer.setInterval(1500)
        self._live_timer.timeout.connect(self._live_refresh)

        self._restore_geometry()
        self._select_folder_after_stats: str | None = None
        self._open_folder_after_index: str | None = None
        self.reload_view()
        self.refresh_stats()
        self.refresh_bursts()
        self.tasks.submit("backends", critique_backend, self._backends_checked)

    # ------------------------------------------------------------------ construction helpers

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.job_widgets: dict[str, JobStatus] = {}
        for job in (INDEX, SCORE):
            widget = JobStatus(job)
            widget.pause_toggled.connect(self._pause_toggled)
            widget.cancel_requested.connect(self.jobs.cancel)
            self.job_widgets[job] = widget
            bar.addPermanentWidget(widget)
        self.error_log = ErrorLog()
        self.error_log.log_file = str(self.log_file) if self.log_file else None
        bar.addPermanentWidget(self.error_log)
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_THUMB, MAX_THUMB)
        self.size_slider.setValue(self.grid.thumb_size)
        self.size_slider.setFixedWidth(110)
        self.size_slider.setToolTip("Thumbnail size (Ctrl + / Ctrl −)")
        self.size_slider.valueChanged.connect(self.grid.set_thumb_size)
        size_label = QLabel("Thumbnails")
        size_label.setProperty("role", "muted")
        bar.addPermanentWidget(size_label)
        bar.addPermanentWidget(self.size_slider)

    def _action(
        self,
        text: str,
        slot: Any,
        shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None,
        *,
        hint: str | None = None,
        checkable: bool = False,
    ) -> QAction:
        action = QAction(f"{text}\t{hint}" if hint else text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.add_folder_action = self._action("Add folder…", self.add_folder, QKeySequence.StandardKey.Open)
        file_menu.addAction(self.add_folder_action)
        file_menu.addAction(
            self._action("Rescan library", lambda: self.start_indexing(self.settings.library_folders), "F5")
        )
        file_menu.addSeparator()
        file_menu.addAction(self._action("Settings…", self.open_settings, "Ctrl+,"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("Quit", self.close, QKeySequence.StandardKey.Quit))

        edit = menu.addMenu("&Edit")
        edit.addAction(self._action("Undo decision", self.culling.undo, hint="Ctrl+Z"))
        edit.addAction(self._action("Redo decision", self.culling.redo, hint="Ctrl+Shift+Z"))
        edit.addSeparator()
        edit.addAction(self._action("Select all", self.grid.selectAll, hint="Ctrl+A"))
        edit.addAction(self._action("Select none", self.grid.clearSelection, "Ctrl+D"))
        edit.addAction(self._action("Find", self._focus_search, QKeySequence.StandardKey.Find))

        photo = menu.addMenu("&Photo")
        photo.addAction(self._action("Pick", lambda: self.culling.set_flag(1), hint="P"))
        photo.addAction(self._action("Reject", lambda: self.culling.set_flag(-1), hint="X"))
        photo.addAction(self._action("Unflag", lambda: self.culling.set_flag(0), hint="U"))
        stars = photo.addMenu("Rating")
        for n in range(6):
            stars.addAction(
                self._action(
                    "No stars" if n == 0 else "★" * n,
                    lambda _=False, n=n: self.culling.set_rating(n),
                    hint=str(n),
                )
            )
        labels = photo.addMenu("Colour label")
        for key, name in ((6, "red"), (7, "yellow"), (8, "green"), (9, "blue")):
            labels.addAction(
                self._action(name.capitalize(), lambda _=False, name=name: self.culling.set_label(name), hint=str(key))
            )
        labels.addAction(self._action("Purple", lambda: self.culling.set_label("purple")))
        labels.addAction(self._action("None", lambda: self.culling.set_label(None)))
        photo.addSeparator()
        self.keep_best_action = self._action("Keep best of bursts, reject the rest", self.keep_best_of_bursts)
        photo.addAction(self.keep_best_action)
        photo.addSeparator()
        self.critique_action = self._action("Write critique", lambda: self.write_critique(self.current_id()))
        photo.addAction(self.critique_action)

        view = menu.addMenu("&View")
        view.addAction(self._action("Grid", lambda: self.set_view("grid"), hint="G"))
        view.addAction(self._action("Loupe", lambda: self.set_view("loupe"), hint="E"))
        view.addAction(self._action("Compare", lambda: self._view_requested("compare"), hint="C"))
        view.addAction(self._action("Zoom 100 %", lambda: self._view_requested("zoom"), hint="Z"))
        view.addSeparator()
        view.addAction(self._action("Larger thumbnails", lambda: self.grid.zoom_by(1), hint="Ctrl++"))
        view.addAction(self._action("Smaller thumbnails", lambda: self.grid.zoom_by(-1), hint="Ctrl+−"))
        self.collapse_action = QAction("Collapse bursts to their best frame", self)
        self.collapse_action.setCheckable(True)
        self.collapse_action.setChecked(self.settings.collapse_bursts)
        self.collapse_action.toggled.connect(self._collapse_toggled)
        view.addAction(self.collapse_action)
        self.panel_action = self._action("Side panel", self._panel_toggled, "Ctrl+I", checkable=True)
        self.panel_action.setChecked(self.settings.side_panel_visible)
        view.addAction(self.panel_action)
        themes = view.addMenu("Theme")
        group = QActionGroup(self)
        for name in settings_module.THEMES:
            action = self._action(name.capitalize(), lambda _=False, name=name: self.set_theme(name), checkable=True)
            action.setChecked(name == self.settings.theme)
            group.addAction(action)
            themes.addAction(action)
        view.addSeparator()
        view.addAction(self._action("Reset filters", self.filter_bar.reset, "Ctrl+Shift+L"))

        score = menu.addMenu("&Score")
        score.addAction(self._action("Score new photos", lambda: self.start_scoring(), "Ctrl+R"))
        score.addAction(
            self._action("Rescore selected photos", lambda: self.start_scoring(rescore=True, ids=self.target_ids()))
        )
        score.addSeparator()
        self.score_model_menu = score.addMenu("Score shown")
        self.score_model_menu.aboutToShow.connect(self._fill_score_model_menu)

        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("Keyboard shortcuts", self.show_keys, QKeySequence.StandardKey.HelpContents))
        help_menu.addAction(self._action("Open log folder", self.open_log_folder))
        help_menu.addAction(self._action("About ArtiMuse Desktop", self.show_about))

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.add_folder_action)
        toolbar.addSeparator()
        self.view_buttons: dict[str, QToolButton] = {}
        for name, text, tip in (
            ("grid", "Grid", "Grid (G)"),
            ("loupe", "Loupe", "Loupe (E)"),
            ("compare", "Compare", "Compare (C)"),
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setCheckable(True)
            button.setAutoExclusive(True)
            button.clicked.connect(lambda _=False, name=name: self._view_requested(name))
            toolbar.addWidget(button)
            self.view_buttons[name] = button
        self.view_buttons["grid"].setChecked(True)
        toolbar.addSeparator()
        self.score_button = QToolButton()
        self.score_button.setText("Score")
        self.score_button.setToolTip("Score photos that have no score from the default model yet (Ctrl+R)")
        self.score_button.clicked.connect(lambda: self.start_scoring())
        toolbar.addWidget(self.score_button)
        score_by = QLabel("  Score shown:")
        score_by.setProperty("role", "muted")
        toolbar.addWidget(score_by)
        self.score_model_combo = QComboBox()
        self.score_model_combo.setToolTip("Which model's score the grid shows, sorts and filters by")
        self.score_model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.score_model_combo.setMinimumWidth(110)
        self.score_model_combo.activated.connect(self._score_model_chosen)
        toolbar.addWidget(self.score_model_combo)
        toolbar.addSeparator()
        # Short labels on the toolbar, the long ones in the menus: own buttons, kept in step with the actions.
        self.collapse_button = QToolButton()
        self.collapse_button.setText("Collapse bursts")
        self.collapse_button.setToolTip("Show only the best frame of each burst")
        self.collapse_button.setCheckable(True)
        self.collapse_button.setChecked(self.collapse_action.isChecked())
        self.collapse_button.toggled.connect(self.collapse_action.setChecked)
        self.collapse_action.toggled.connect(self.collapse_button.setChecked)
        toolbar.addWidget(self.collapse_button)
        self.keep_best_button = QToolButton()
        self.keep_best_button.setText("Keep best")
        self.keep_best_button.setToolTip(
            "For the bursts in the selection (or all shown): pick the best frame, reject the rest (Ctrl+Z undoes)"
        )
        self.keep_best_button.clicked.connect(self.keep_best_action.trigger)
        self.keep_best_action.changed.connect(
            lambda: self.keep_best_button.setEnabled(self.keep_best_action.isEnabled())
        )
        toolbar.addWidget(self.keep_best_button)

    # ------------------------------------------------------------------ settings, theme, geometry

    def _restore_geometry(self) -> None:
        self.resize(1440, 900)
        if self.settings.window_geometry:
            with contextlib.suppress(ValueError, TypeError):
                self.restoreGeometry(QByteArray(base64.b64decode(self.settings.window_geometry)))

    def save_settings(self) -> None:
        self.settings.window_geometry = base64.b64encode(bytes(self.saveGeometry().data())).decode("ascii")
        self.settings.thumbnail_size = self.grid.thumb_size
        try:
            settings_module.save(self.settings, self.settings_path)
        except OSError as exc:
            log.warning("cannot save settings: %s", exc)

    def set_theme(self, name: str) -> None:
        from artimuse_desktop.gui.app import apply_theme

        self.settings.theme = name
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, name)

    def open_settings(self) -> None:
        from artimuse_desktop.gui.settings_dialog import ModelChoice, SettingsDialog

        models = [ModelChoice(i.name, i.description, i.available, i.reason) for i in self._backend_infos]
        if not models:
            models = [ModelChoice("technical", "Built-in technical analyzer", True, "built in")]
        dialog = SettingsDialog(self.settings, models, self)
        if dialog.exec() != SettingsDialog.DialogCode.Accepted:
            return
        self.apply_settings(dialog.result_settings())

    def apply_settings(self, new: Settings) -> None:
        old = self.settings
        self.settings = new
        if new.theme != old.theme:
            self.set_theme(new.theme)
        if new.collapse_bursts != old.collapse_bursts:
            self.collapse_action.setChecked(new.collapse_bursts)
            self.reload_view()
        if (new.burst_seconds, new.burst_distance) != (old.burst_seconds, old.burst_distance):
            self.refresh_bursts()
        if new.cache_max_bytes != old.cache_max_bytes:
            self.loader.set_cache_max_bytes(new.cache_max_bytes)
            self.tasks.submit("prune-cache", lambda: _prune_thumbnail_cache(new.cache_max_bytes), lambda _: None)
        added = [f for f in new.library_folders if f not in old.library_folders]
        self.save_settings()
        if added:
            self.start_indexing(added)

    # ------------------------------------------------------------------ view reloads

    def reload_view(self) -> None:
        """Re-run the current collection + filters + sort off the GUI thread."""
        kind, value = self.collections.selected()
        query = ViewQuery(
            kind=kind,
            value=value,
            bar=self.filter_bar.photo_filter(),
            sort=self.filter_bar.sort_spec(),
            collapse=self.collapse_action.isChecked(),
            burst_ids=self._bursts.member_ids,
            burst_rest=self._bursts.rest_ids,
        )
        catalog = self.catalog
        self.tasks.submit("view", lambda: run_view_query(catalog, query), self._view_loaded)

    def _view_loaded(self, result: ViewResult) -> None:
        keep_current = self._pending_select or self.current_id()
        keep_selected = self.grid.selected_ids()
        self._catalog_total = result.catalog_total
        if result.ids != self.model.ids() or result.score_model != self.model.score_model:
            self.model.set_ids(result.ids, result.score_model)
            restore = [pid for pid in keep_selected if self.model.row_of(pid) is not None]
            if keep_current is not None and self.model.row_of(keep_current) is not None:
                self.grid.select_ids(restore or [keep_current], keep_current)
            elif result.ids:
                self.grid.select_id(result.ids[0])
        else:
            self.model.refresh_all()
        self._pending_select = None
        self.filter_bar.set_counts(len(result.ids), result.collection_total)
        self.filter_bar.set_histogram(result.histogram)
        self._update_welcome()
        if self.current_id() is None:
            self.side_panel.show_data(None)
        self.view_reloaded.emit()

    def _update_welcome(self) -> None:
        """The welcome page until the catalog has a photo (it shows indexing progress meanwhile)."""
        empty = self._catalog_total == 0
        if empty:
            self.stack.setCurrentWidget(self.welcome)
            self.side_panel.hide()  # nothing to describe yet
        elif self.stack.currentWidget() is self.welcome:
            self.side_panel.setVisible(self.settings.side_panel_visible)
            self.set_view("grid")

    def refresh_stats(self) -> None:
        catalog = self.catalog
        burst_ids = self._bursts.member_ids
        self.tasks.submit("stats", lambda: run_stats(catalog, burst_ids), self._stats_loaded)

    def _stats_loaded(self, stats: Stats) -> None:
        self.collections.set_counts(stats.counts)
        self.collections.set_folders(stats.folders)
        self.filter_bar.set_measure_names(stats.measures)
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
        from artimuse_desktop.culling.bursts import find_bursts

        catalog = self.catalog
        sort = self.filter_bar.sort_spec()
        key = sort.key if sort.key == "score" or sort.key.startswith("attr:") else "score"
        seconds, distance = self.settings.burst_seconds, self.settings.burst_distance
        self.tasks.submit(
            "bursts",
            lambda: find_bursts(catalog, key=key, max_seconds=seconds, max_distance=distance),
            self._bursts_found,
        )

    def _bursts_found(self, bursts: list[Any]) -> None:
        previous = (self._bursts.member_ids, self._bursts.rest_ids)
        self._bursts = BurstState(bursts, {pid: b for b in bursts for pid in b.photo_ids})
        self.model.set_bursts({b.best_id: b.count for b in bursts}, set(self._bursts.rest_ids))
        self.keep_best_action.setEnabled(bool(bursts))
        if previous != (self._bursts.member_ids, self._bursts.rest_ids):
            kind, _ = self.collections.selected()
            if kind == "bursts" or self.collapse_action.isChecked():
                self.reload_view()
            self._stats_timer.start()
        self.bursts_loaded.emit()

    def _live_refresh(self) -> None:
        if self._index_progressed:
            self._index_progressed = False
            self.reload_view()
        if self._score_progressed:
            self._score_progressed = False
            self.model.refresh_all()
            self._schedule_panel()
        if not self.jobs.running() & {INDEX, SCORE}:
            self._live_timer.stop()

    # ------------------------------------------------------------------ current photo and views

    def is_idle(self) -> bool:
        """No query running or about to run (tests and the screenshot script wait for this)."""
        return not (
            self.tasks.busy()
            or self._stats_timer.isActive()
            or self._panel_timer.isActive()
            or self.filter_bar.pending()
            or self.culling.busy()
        )

    def current_id(self) -> int | None:
        if self._view == "compare":
            return self.compare.active_id()
        return self.grid.current_id()

    def current_record(self) -> PhotoRecord | None:
        pid = self.current_id()
        return self.model.record_for_id(pid) if pid is not None else None

    def target_ids(self) -> list[int]:
        """What a decision applies to: every selected photo in the grid, the shown photo elsewhere."""
        if self._view == "grid":
            return self.grid.target_ids()
        current = self.current_id()
        return [current] if current is not None else []

    def move_current(self, step: int) -> None:
        if self._view == "compare":
            self.compare.move_active(step)
        else:
            self.grid.move_current(step)

    def set_view(self, name: str) -> None:
        if name == "loupe" and self.grid.current_id() is None:
            return
        self._view = name
        page = {"grid": self.grid, "loupe": self.loupe, "compare": self.compare, "welcome": self.welcome}[name]
        self.stack.setCurrentWidget(page)
        if name in self.view_buttons:
            self.view_buttons[name].setChecked(True)
        if name == "loupe":
            self._show_in_loupe()
            self.loupe.image.setFocus()
        elif name == "grid":
            self.grid.setFocus()
            index = self.grid.currentIndex()
            if index.isValid():
                self.grid.scrollTo(index)
        elif name == "compare":
            self.compare.setFocus()

    def _view_requested(self, request: str) -> None:
        if request == "grid":
            self.set_view("grid")
        elif request == "loupe":
            self.set_view("loupe")
        elif request == "toggle":
            self.set_view("grid" if self._view == "loupe" else "loupe")
        elif request == "zoom":
            if self._view == "compare":
                self.compare.zoom()
            else:
                if self._view != "loupe":
                    self.set_view("loupe")
                self.loupe.zoom()
        elif request == "compare":
            self.open_compare()

    def open_compare(self, ids: Sequence[int] | None = None) -> None:
        chosen = list(ids) if ids is not None else self.grid.selected_ids()
        current = self.grid.current_id()
        if len(chosen) < 2 and current is not None:
            row = self.model.row_of(current)
            following = self.model.id_at(row + 1) if row is not None else None
            chosen = [current] + ([following] if following is not None else [])
        chosen = chosen[:MAX_PANES]
        if len(chosen) < 2:
            self.statusBar().showMessage("Select two to four photos to compare", 4000)
            return
        records = [r for r in (self.model.record_for_id(pid) for pid in chosen) if r is not None]
        self.compare.set_records(records, current if current in chosen else chosen[0])
        self._view = "compare"
        self.stack.setCurrentWidget(self.compare)
        self.view_buttons["compare"].setChecked(True)
        self.compare.setFocus()

    def _show_in_loupe(self) -> None:
        record = self.current_record()
        row = self.grid.currentIndex().row()
        position = f"{row + 1:,} of {self.model.rowCount():,}" if row >= 0 else ""
        self.loupe.show_record(record, position)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._view == "loupe":
            self._show_in_loupe()
        self._schedule_panel()

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        count = len(self.grid.selectionModel().selection().indexes()) if self.model.rowCount() < 5000 else None
        if count and count > 1:
            self.statusBar().showMessage(f"{count:,} photos selected", 2000)

    def _compare_active_changed(self, photo_id: int) -> None:
        self._schedule_panel()

    # ------------------------------------------------------------------ side panel

    def _schedule_panel(self) -> None:
        self._panel_timer.start()

    def _load_panel(self) -> None:
        pid = self.current_id()
        if pid is None:
            self.side_panel.show_data(None)
            return
        catalog = self.catalog
        self.tasks.submit("panel", lambda: load_panel(catalog, pid), self._panel_data)
        record = self.model.record_for_id(pid)
        if record is not None:
            pixmap, _ = self.images.best(pid)
            if self.side_panel.current_id() != pid:
                self.side_panel.set_preview(pixmap)
            self.images.request(record, PREVIEW)

    def _panel_data(self, data: PanelData | None) -> None:
        if data is None or data.record.id != self.current_id():
            return
        self.side_panel.show_data(data)
        pixmap, _ = self.images.best(data.record.id)
        if pixmap is not None:
            self.side_panel.set_preview(pixmap)
        self.panel_loaded.emit(data.record.id)

    def _image_updated(self, photo_id: int, kind: str) -> None:
        if photo_id == self.side_panel.current_id():
            pixmap, _ = self.images.best(photo_id)
            self.side_panel.set_preview(pixmap)

    # ------------------------------------------------------------------ decisions

    def _decisions_changed(self, change: DecisionChange) -> None:
        self.model.refresh_ids(change.photo_ids)
        current = self.current_id()
        if current is not None and current in change.photo_ids:
            record = self.model.record_for_id(current)
            if record is not None:
                self.side_panel.update_record(record)
                if self._view == "loupe":
                    self._show_in_loupe()
        if self._view == "compare":
            for pid in change.photo_ids:
                record = self.model.record_for_id(pid)
                if record is not None:
                    self.compare.update_record(record)
        self._stats_timer.start()

    def keep_best_of_bursts(self) -> None:
        from artimuse_desktop.culling.bursts import keep_best_reject_rest

        selected = set(self.grid.selected_ids())
        if selected:
            bursts = list({id(b): b for pid in selected if (b := self._bursts.by_member.get(pid))}.values())
        else:
            shown = set(self.model.ids())
            bursts = [b for b in self._bursts.bursts if shown & set(b.photo_ids)]
        if not bursts:
            self.statusBar().showMessage("No burst in the selection", 4000)
            return
        frames = sum(b.count for b in bursts)
        catalog = self.catalog

        def done(change: DecisionChange | None) -> None:
            if change is not None:
                self._decisions_changed(change)
            self.statusBar().showMessage(
                f"Kept the best frame of {len(bursts):,} burst(s), rejected {frames - len(bursts):,} frames "
                "(Ctrl+Z undoes it)",
                6000,
            )

        self.culling.run(
            lambda: keep_best_reject_rest(catalog, bursts),
            done,
            failure="Could not apply the burst decisions",
            background=frames > LARGE_BATCH,
        )

    # ------------------------------------------------------------------ jobs

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of photos")
        if folder:
            self.add_library_folder(folder)

    def add_library_folder(self, folder: str) -> None:
        folder = os.path.abspath(folder)
        if folder not in self.settings.library_folders:
            self.settings.library_folders.append(folder)
            self.save_settings()
        self.start_indexing([folder])

    def open_path(self, path: str) -> None:
        self.open_paths([path])

    def open_paths(self, paths: Sequence[str]) -> None:
        """``artimuse-desktop gui PATH ...``: index the folders (or the photos' folders) and show the first."""
        folders: list[str] = []
        for path in paths:
            target = Path(path).expanduser().absolute()
            if not target.exists():
                self.show_error(f"{target} does not exist", subject=str(target))
                continue
            folder = str(target if target.is_dir() else target.parent)
            if folder not in folders:
                folders.append(folder)
        if not folders:
            return
        added = [f for f in folders if f not in self.settings.library_folders]
        if added:
            self.settings.library_folders.extend(added)
            self.save_settings()
        if self.start_indexing(folders):
            self._open_folder_after_index = folders[0]

    def start_indexing(self, roots: Sequence[str]) -> bool:
        roots = [r for r in roots if r]
        if not roots:
            self.statusBar().showMessage("No library folder yet: use File ▸ Add folder…", 5000)
            return False
        if not self.jobs.start_indexing(roots, cache_max_bytes=self.settings.cache_max_bytes):
            self.statusBar().showMessage("Indexing is already running", 4000)
            return False
        self.welcome.set_status("Indexing…")
        self._live_timer.start()
        return True

    def start_scoring(
        self, *, rescore: bool = False, ids: Sequence[int] | None = None, model: str | None = None
    ) -> bool:
        name = model or self.settings.default_model
        if not self.jobs.start_scoring(
            name, self.settings.device, self.settings.batch_size, rescore=rescore, photo_ids=ids
        ):
            self.statusBar().showMessage("Scoring is already running", 4000)
            return False
        self._live_timer.start()
        return True

    def write_critique(self, photo_id: int | None) -> None:
        if photo_id is None:
            return
        if self._critique_model is None:
            self.show_error(self.side_panel.critique_button.toolTip())
            return
        if not self.jobs.start_critique(self._critique_model, self.settings.device, photo_id):
            self.statusBar().showMessage("A critique is already being written", 4000)
            return
        if self.jobs.is_running(SCORE):
            self.statusBar().showMessage("The critique starts when the scoring run ends", 5000)

    def _critique_finished(self, photo_id: int, texts: object, error: object) -> None:
        if error:
            self.side_panel.end_critique(photo_id, "")
            self.show_error(f"Could not write the critique: {error}", subject=self._photo_name(photo_id))
        else:
            written = len(texts) if isinstance(texts, dict) else 0
            self.side_panel.end_critique(photo_id, "" if written else "Cancelled; nothing was kept.")
        if photo_id == self.current_id():
            self._schedule_panel()

    def _backends_checked(self, result: tuple[str | None, str, list[Any]]) -> None:
        self._critique_model, reason, self._backend_infos = result
        self.side_panel.set_critique_model(self._critique_model, reason)
        self.critique_action.setEnabled(self._critique_model is not None)
        if self._critique_model is None:
            self.critique_action.setToolTip(reason)

    def _pause_toggled(self, job: str, paused: bool) -> None:
        if paused:
            self.jobs.pause(job)
        else:
            self.jobs.resume(job)

    def _job_progress(self, progress: JobProgress) -> None:
        self.job_widgets[progress.job].update_progress(progress)
        if progress.job == INDEX:
            self._index_progressed = True
            if self.stack.currentWidget() is self.welcome:
                self.welcome.set_status(f"Indexing… {progress.done:,} photos" if progress.done else "Indexing…")
        elif progress.job == SCORE:
            self._score_progressed = True

    def _job_finished(self, result: JobResult) -> None:
        widget = self.job_widgets.get(result.job)
        if widget is not None:
            widget.finish()
        for path, reason in result.failures:
            self.error_log.add(os.path.basename(path) or path, reason)
        if result.error:
            self.show_error(result.message)
        elif result.failures:
            path, reason = result.failures[0]
            more = f" (and {len(result.failures) - 1} more)" if len(result.failures) > 1 else ""
            self.statusBar().showMessage(f"{result.message} — {os.path.basename(path)}: {reason}{more}", 10000)
        else:
            self.statusBar().showMessage(result.message, 8000)
        if result.job == INDEX:
            self.welcome.set_status("")
            self.model.forget_thumbnails()
            self.images.forget()
            if self._open_folder_after_index:
                self._select_folder_after_stats = self._open_folder_after_index
                self._open_folder_after_index = None
            self.reload_view()
            self.refresh_stats()
            self.refresh_bursts()
            if not result.cancelled and not result.error and self.settings.score_after_indexing:
                self.start_scoring()
        elif result.job == SCORE:
            self.model.refresh_all()
            self.reload_view()
            self.refresh_stats()
            self.refresh_bursts()
            self._schedule_panel()

    # ------------------------------------------------------------------ score model

    def _fill_score_model_menu(self) -> None:
        self.score_model_menu.clear()
        for i in range(self.score_model_combo.count()):
            name = self.score_model_combo.itemText(i)
            action = self.score_model_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name == self.score_model_combo.currentText())
            action.triggered.connect(lambda _=False, name=name: self.set_score_model(name))

    def _score_model_chosen(self, index: int) -> None:
        self.set_score_model(self.score_model_combo.itemText(index))

    def set_score_model(self, name: str) -> None:
        from artimuse_desktop.catalog.queries import set_score_model

        try:
            with self.catalog.write() as session:
                set_score_model(session, name)
        except Exception as exc:
            self.show_error(f"Could not change the score model: {exc}")
            return
        self.reload_view()
        self.refresh_stats()
        self.refresh_bursts()
        self._schedule_panel()

    # ------------------------------------------------------------------ misc actions

    def _photo_name(self, photo_id: int) -> str:
        record = self.model.record_for_id(photo_id)
        return record.filename if record is not None else f"photo {photo_id}"

    def show_error(self, text: str, subject: str = "") -> None:
        """A readable message in the status bar (and the problems list); details are in the log."""
        log.warning("%s%s", f"{subject}: " if subject else "", text)
        self.error_log.add(subject or "ArtiMuse Desktop", text)
        self.statusBar().showMessage(text, 10000)

    def _focus_search(self) -> None:
        self.filter_bar.search.setFocus()
        self.filter_bar.search.selectAll()

    def _collapse_toggled(self, checked: bool) -> None:
        self.settings.collapse_bursts = checked
        self.reload_view()

    def _panel_toggled(self, checked: bool) -> None:
        self.settings.side_panel_visible = checked
        self.side_panel.setVisible(checked)

    def _thumb_size_changed(self, size: int) -> None:
        with QSignalBlocker(self.size_slider):
            self.size_slider.setValue(size)
        self.settings.thumbnail_size = size

    def show_keys(self) -> None:
        rows = "".join(f"<tr><td><b>{b.keys}</b>&nbsp;&nbsp;</td><td>{b.action}</td></tr>" for b in KEY_HELP)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{rows}</table>")

    def open_log_folder(self) -> None:
        from artimuse_desktop import paths

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.log_dir())))

    def show_about(self) -> None:
        from artimuse_desktop import __version__

        QMessageBox.about(
            self,
            "About ArtiMuse Desktop",
            f"ArtiMuse Desktop {__version__}\nOffline photo culling with aesthetic scores.\n"
            f"Catalog: {self.catalog.path}",
        )

    # ------------------------------------------------------------------ Qt events

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Keys no child took (focus on the panel, the tree…) still cull, as in Lightroom."""
        if self.stack.currentWidget() is not self.welcome and self.culling.handle_key(event):
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
        """Stop every background thread and save settings: cancel, quit, wait."""
        if self._closing:
            return
        self._closing = True
        for timer in (self._stats_timer, self._panel_timer, self._live_timer):
            timer.stop()
        self.jobs.cancel("critique")
        self.culling.shutdown()  # every decision still queued reaches the catalog before the window goes
        self.save_settings()
        self.jobs.shutdown()
        self.tasks.shutdown()
        self.loader.shutdown()


def _prune_thumbnail_cache(max_bytes: int) -> object:
    """Off the GUI thread: shrink the thumbnail cache to a smaller budget right away."""
    from artimuse_desktop.imaging.thumbnails import ThumbnailCache

    return ThumbnailCache(max_bytes=max_bytes).prune()
