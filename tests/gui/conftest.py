"""GUI test fixtures: an offscreen Qt, real JPEGs in the real catalog, a main window, and a check that no
background thread outlives a test. (User folders and the catalog come from tests/conftest.py.)"""

from __future__ import annotations

import contextlib
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.scoring.types import Measure
from tests.factory import PhotoSpec, add_assessment, add_photos


@pytest.fixture(autouse=True)
def no_dangling_threads(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail any test that leaves a GUI QThread, a pool thread or a pipeline thread running."""
    before = {t.ident for t in threading.enumerate()}
    yield
    from artimuse_desktop.gui.tasks import active_pool_threads
    from artimuse_desktop.gui.workers import running_threads

    alive = running_threads()
    assert not alive, f"QThreads still running after the test: {[t.objectName() for t in alive]}"
    assert active_pool_threads() == 0, "a QThreadPool still runs tasks after the test"
    deadline = datetime.now() + timedelta(seconds=5)
    leftover: list[threading.Thread] = []
    while datetime.now() < deadline:
        leftover = [
            t
            for t in threading.enumerate()
            if t.ident not in before and t.is_alive() and not t.daemon and t is not threading.main_thread()
        ]
        if not leftover:
            break
        threading.Event().wait(0.05)
    assert not leftover, f"Python threads left running: {[t.name for t in leftover]}"


@pytest.fixture
def photos(catalog: Catalog, tmp_path: Path) -> list[int]:
    """Ten photos in two folders with known decisions and scores (technical model scores everything;
    the "artimuse" model scores some, with attributes)."""
    specs = [
        PhotoSpec("alpha.jpg", "trip/day1", flag=1, rating=3, color=(200, 60, 60)),
        PhotoSpec("bravo.jpg", "trip/day1", rating=1, color=(60, 200, 60)),
        PhotoSpec("charlie.jpg", "trip/day1", flag=-1, color=(60, 60, 200)),
        PhotoSpec("delta.jpg", "trip/day2", rating=5, color_label="red", color=(200, 200, 60)),
        PhotoSpec("echo.jpg", "trip/day2", color=(60, 200, 200)),
        PhotoSpec("foxtrot.jpg", "trip/day2", flag=1, color=(200, 60, 200)),
        PhotoSpec("golf.jpg", "home", rating=2, color_label="blue", color=(150, 150, 150)),
        PhotoSpec("hotel.jpg", "home", color=(90, 90, 90)),
        PhotoSpec("india.jpg", "home", color=(30, 30, 30)),
        PhotoSpec("juliet.jpg", "home", color=(240, 240, 240)),
    ]
    ids = add_photos(catalog, tmp_path / "photos", specs)
    technical = [55.0, 72.5, 31.0, 88.0, 64.0, 47.0, 91.0, None, 12.0, 70.0]
    for pid, score in zip(ids, technical, strict=True):
        if score is not None:
            add_assessment(
                catalog,
                pid,
                "technical",
                score,
                measures=[Measure("sharpness", score * 5, "", True, "crisp" if score > 50 else "soft")],
            )
    return ids


@pytest.fixture
def backend_factory() -> Any:
    """How the window makes scoring backends: the registry's; a test module overrides this fixture to inject
    its own backend."""
    from artimuse_desktop.scoring.registry import create_backend

    return create_backend


@pytest.fixture
def window(qtbot: Any, catalog: Catalog, tmp_path: Path, backend_factory: Any) -> Iterator[Any]:
    from artimuse_desktop.gui.main_window import MainWindow
    from artimuse_desktop.settings import Settings

    win = MainWindow(
        catalog,
        Settings(score_after_indexing=False),
        settings_path=tmp_path / "settings.json",
        backend_factory=backend_factory,
    )
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    wait_idle(qtbot, win)
    yield win
    win.close()
    win.deleteLater()


def wait_idle(qtbot: Any, win: Any, timeout: int = 10000) -> None:
    """Until every query the window asked for has been answered."""
    qtbot.waitUntil(win.is_idle, timeout=timeout)


def reload(qtbot: Any, win: Any) -> None:
    win.reload_view()
    wait_idle(qtbot, win)


@contextlib.contextmanager
def blank_grid(qtbot: Any, catalog: Catalog, view_class: Any = None) -> Iterator[tuple[Any, Any]]:
    """A shown grid (``view_class``, a ``GridView`` by default) whose model will hold ids the catalog does not
    have: the cells paint blank, for tests where only the rows matter."""
    from artimuse_desktop.gui.grid_model import PhotoGridModel
    from artimuse_desktop.gui.grid_view import GridView
    from artimuse_desktop.gui.thumbnail_loader import ImageLoader

    loader = ImageLoader(threads=1)
    model = PhotoGridModel(catalog, loader)
    view = (view_class or GridView)()
    view.setModel(model)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    try:
        yield view, model
    finally:
        view.close()
        loader.shutdown()
