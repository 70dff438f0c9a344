"""QApplication set-up: a rotating log file, the theme (from ``theme``), the main window and a clean exit.

Start-up must stay light (the window should be up in about a second): nothing here imports a scoring model;
the worker thread imports a backend only when a job asks for it.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer, qInstallMessageHandler
from PySide6.QtGui import QFileOpenEvent, QFont, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from artimuse_desktop import paths
from artimuse_desktop import settings as settings_module
from artimuse_desktop.gui.gc_pauses import HeapFreezer, calm_collections
from artimuse_desktop.gui.tasks import limit_malloc_arenas, run_workers_below_the_gui, share_the_gil_quickly
from artimuse_desktop.gui.theme import THEMES_DIR, apply_theme
from artimuse_desktop.logfile import LOG_FILE_NAME, file_handler, route_warnings

if TYPE_CHECKING:
    from artimuse_desktop.catalog.db import Catalog

log = logging.getLogger(__name__)

#: Set to 1 to print the time from process start to the first shown window, then quit (bench/bench_gui.py).
EXIT_AFTER_SHOW_ENV = "ARTIMUSE_GUI_EXIT_AFTER_SHOW"


def seconds_since_process_start() -> float | None:
    """Wall time since this process started (Linux /proc); None where that cannot be read."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/self/stat", encoding="ascii") as handle:
            stat = handle.read()
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        return uptime - start_ticks / ticks
    except (OSError, ValueError, IndexError):
        return None


def setup_logging(directory: Path | None = None) -> Path | None:
    """Details go to a rotating file in ``paths.log_dir()``; the user sees short messages in the window.
    Python warnings (Pillow's about odd files) go to that file only, never to the terminal."""
    folder = directory or paths.log_dir()
    target = folder / LOG_FILE_NAME
    route_warnings(folder)
    root = logging.getLogger()
    if any(getattr(h, "baseFilename", None) == str(target) for h in root.handlers):
        return target
    handler = file_handler(folder)
    if handler is None:
        log.warning("cannot write the log in %s", folder)
        return None
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
        for existing in root.handlers:  # keep stderr as quiet as the command line asked
            if existing is not handler and existing.level == logging.NOTSET:
                existing.setLevel(logging.WARNING)
    return target


def _qt_message(mode: object, context: object, message: str) -> None:
    log.debug("Qt: %s", message)


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    """An exception escaping a slot is logged with its traceback and shown as one readable line."""
    log.error("unhandled error", exc_info=(kind, value, tb))
    from artimuse_desktop.errors import ArtiMuseError

    text = value.user_text() if isinstance(value, ArtiMuseError) else f"{kind.__name__}: {value}"
    app = QApplication.instance()
    if isinstance(app, QApplication):
        for widget in app.topLevelWidgets():
            show = getattr(widget, "show_error", None)
            if callable(show):
                show(text)
                return
    sys.__excepthook__(kind, value, tb)


class FileOpenForwarder(QObject):
    """macOS sends "Open with" from Finder (and drops on the Dock icon) as QFileOpenEvent to the
    application, not as command-line arguments: hand those paths to the window like ``gui PATH``."""

    def __init__(self, open_paths: Callable[[list[str]], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_paths = open_paths

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent) and event.file():
            self._open_paths([event.file()])
            return True
        return False


def create_application() -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(sys.argv[:1])
    app.setApplicationName("ArtiMuse Desktop")
    app.setOrganizationName("ArtiMuse")
    app.setApplicationDisplayName("ArtiMuse Desktop")
    # Ties windows to app.artimuse.Desktop.desktop (Wayland uses it for the taskbar icon and grouping).
    app.setDesktopFileName("app.artimuse.Desktop")
    app.setWindowIcon(QIcon(str(THEMES_DIR / "app-icon.svg")))
    font = app.font()
    if font.pointSizeF() < 9:
        font = QFont(font)
        font.setPointSizeF(9.5)
        app.setFont(font)
    return app


def open_window_catalog(path: Path | str) -> Catalog:
    """The catalog as the window opens it: SQLite connections light on memory (``catalog.db.WINDOW``: a small
    page cache, no file mapping, two connections kept), where the command line keeps its big ones."""
    from artimuse_desktop.catalog.db import WINDOW, open_catalog

    return open_catalog(path, tuning=WINDOW)


def run(catalog_path: Path | str, open_paths: Sequence[str] = ()) -> int:
    """Open the catalog and run the window until the user quits; returns the exit code."""
    limit_malloc_arenas()  # before Qt and the pools start their threads
    share_the_gil_quickly()  # the GUI thread waits less for the workers' Python
    run_workers_below_the_gui()  # and less for a core
    calm_collections()  # full garbage collections stop the GUI thread (``gui.gc_pauses``)
    log_file = setup_logging()
    qInstallMessageHandler(_qt_message)
    app = create_application()
    settings = settings_module.load()
    apply_theme(app, settings.theme)

    from artimuse_desktop.errors import ArtiMuseError

    try:
        catalog = open_window_catalog(catalog_path)
    except ArtiMuseError as exc:
        log.error("cannot open catalog %s: %s", catalog_path, exc.user_text())
        if not os.environ.get(EXIT_AFTER_SHOW_ENV):
            QMessageBox.critical(None, "Cannot open the catalog", exc.user_text())
        else:
            print(f"error: {exc.user_text()}", file=sys.stderr)
        return 2

    from artimuse_desktop.gui.main_window import MainWindow

    sys.excepthook = _excepthook
    window = MainWindow(catalog, settings, log_file=log_file)
    HeapFreezer(window.is_idle, window)
    if os.environ.get(EXIT_AFTER_SHOW_ENV):
        started = time.perf_counter()

        def report() -> None:
            since_start = seconds_since_process_start()
            shown = f"{since_start:.3f}" if since_start is not None else "nan"
            print(
                f"window shown after {shown} s (since process start); "
                f"{time.perf_counter() - started:.3f} s after construction",
                flush=True,
            )
            QTimer.singleShot(0, window.close)

        window.first_shown.connect(report)
    forwarder = FileOpenForwarder(window.open_paths, window)
    app.installEventFilter(forwarder)
    window.show()
    if open_paths:
        QTimer.singleShot(0, lambda: window.open_paths(list(open_paths)))
    try:
        return int(app.exec())
    finally:
        sys.excepthook = sys.__excepthook__
        catalog.close()
