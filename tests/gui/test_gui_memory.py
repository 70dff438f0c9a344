"""The window's memory (issue 14: 500 MB resident at 300,000 photos): light catalog connections, pixmap caches
that follow the screen and never drop what is shown, malloc's free memory given back after big answers."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QImage, QPixmap
from sqlalchemy import text

from artimuse_desktop.catalog.db import WINDOW, Catalog
from artimuse_desktop.gui import image_store, tasks
from artimuse_desktop.gui.app import open_window_catalog
from artimuse_desktop.gui.thumbnail_loader import PREVIEW, ImageLoader, PixmapLRU
from tests.gui.conftest import wait_idle

ON_LINUX = sys.platform.startswith("linux")


def _pixmap(edge: int = 10) -> QPixmap:
    pixmap = QPixmap(edge, edge)
    pixmap.fill(QColor(90, 90, 90))
    return pixmap


def test_pixmaps_stay_within_the_byte_budget(qtbot: Any) -> None:
    one = 10 * 10 * max(1, _pixmap().depth() // 8)
    lru = PixmapLRU(3 * one)
    for key in range(10):
        lru.put(key, _pixmap())
    assert list(lru._items) == [7, 8, 9]
    assert lru.bytes == 3 * one


def test_thumbnails_follow_the_screen_a_few_screenfuls_however_big_the_budget(qtbot: Any) -> None:
    on_screen: tuple[int, int] | None = (100, 111)  # twelve cells visible
    lru = PixmapLRU(1 << 40, visible=lambda: on_screen, screens=3)
    for key in range(100):
        lru.put(key, _pixmap())
    assert len(lru) == 36 and 99 in lru and 63 not in lru
    on_screen = (0, 1)  # bigger thumbnails: two cells on screen, six kept from the next one on
    lru.put(100, _pixmap())
    assert len(lru) == 6
    on_screen = None  # not laid out yet: the byte budget alone
    for key in range(200, 260):
        lru.put(key, _pixmap())
    assert len(lru) == 66


def test_the_rows_on_screen_are_kept_even_over_budget(qtbot: Any) -> None:
    one = 10 * 10 * max(1, _pixmap().depth() // 8)
    lru = PixmapLRU(2 * one, visible=lambda: (0, 4), screens=4)
    for key in range(20):
        lru.put(key, _pixmap())
    assert len(lru) == 5  # a screenful is painted right now: dropping its rows would load them again


def test_a_pixmap_shown_elsewhere_is_never_dropped(qtbot: Any) -> None:
    one = 10 * 10 * max(1, _pixmap().depth() // 8)
    lru = PixmapLRU(2 * one)
    shown = _pixmap()
    lru.put("shown", shown)
    for key in range(6):
        lru.put(key, _pixmap())
    assert "shown" in lru and len(lru) == 2  # it counts: one more fits beside it
    del shown
    lru.put("next", _pixmap())
    assert "shown" not in lru


def test_the_image_store_keeps_what_the_loupe_shows_and_a_bounded_rest(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor(10, 20, 30))
    one = 40 * 30 * 4
    monkeypatch.setattr(image_store, "PREVIEW_BYTES", 3 * one)
    loader = ImageLoader(threads=1)
    store = image_store.ImageStore(loader)
    try:
        loader.loaded.emit(1, PREVIEW, image)
        shown = store.pixmap(1, PREVIEW)  # the loupe holds it
        assert shown is not None
        for pid in range(2, 12):
            loader.loaded.emit(pid, PREVIEW, image)
        assert store.pixmap(1, PREVIEW) is shown
        kept = [pid for pid in range(1, 12) if store.pixmap(pid, PREVIEW) is not None]
        assert kept == [1, 10, 11]
    finally:
        loader.shutdown()


def test_free_memory_goes_back_once_the_big_tasks_are_done() -> None:
    trimmer = tasks.FreeAfterBigTasks(big_s=0.1)
    trimmer.started()
    trimmer.started()
    trimmer.finished(0.5)  # a big one, but another still runs
    assert trimmer.trims == 0
    trimmer.finished(0.01)  # the last one: now
    assert trimmer.trims == 1
    trimmer.started()
    assert not trimmer.settled()
    trimmer.finished(0.01)  # small ones alone never trim
    assert trimmer.trims == 1
    assert trimmer.settled()


def test_the_task_runner_gives_memory_back_after_a_big_task(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "FREE_AFTER_BIG_TASKS", tasks.FreeAfterBigTasks(big_s=0.0))
    runner = tasks.TaskRunner(threads=1)
    answers: list[int] = []
    try:
        runner.submit("big", lambda: len(bytearray(32 * 1024 * 1024)), answers.append)
        qtbot.waitUntil(lambda: bool(answers) and tasks.FREE_AFTER_BIG_TASKS.trims == 1, timeout=10000)
    finally:
        runner.shutdown()
    assert answers == [32 * 1024 * 1024]


@pytest.mark.skipif(not ON_LINUX or "MALLOC_ARENA_MAX" in os.environ, reason="glibc's malloc, not set by the user")
def test_malloc_can_be_told_to_share_arenas_and_give_memory_back() -> None:
    assert tasks.limit_malloc_arenas(tasks.MALLOC_ARENAS)
    assert tasks.release_free_memory() in (True, False)  # False: nothing was free to give back


def test_the_window_on_its_light_catalog_shows_the_photos(
    qtbot: Any, catalog: Catalog, photos: list[int], tmp_path: Path
) -> None:
    """The catalog as ``gui.app.run`` opens it: the window works the same on it."""
    from artimuse_desktop.gui.main_window import MainWindow
    from artimuse_desktop.settings import Settings

    assert catalog.path is not None
    light = open_window_catalog(catalog.path)
    assert light.tuning == WINDOW
    win = MainWindow(light, Settings(score_after_indexing=False), settings_path=tmp_path / "s.json")
    try:
        win.resize(1280, 800)
        win.show()
        qtbot.waitExposed(win)
        wait_idle(qtbot, win)
        assert win.model.count() == len(photos)
        with light.engine.connect() as connection:
            assert connection.execute(text("PRAGMA mmap_size")).scalar() == 0
    finally:
        win.close()
        win.deleteLater()
        qtbot.waitUntil(lambda: tasks.active_pool_threads() == 0, timeout=10000)
        light.close()
