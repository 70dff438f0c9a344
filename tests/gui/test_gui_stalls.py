"""What would block the GUI thread at 300,000 photos is split up or taken off it: Qt lays a huge view out in
batches (a far photo is scrolled to once reached), a data change repaints without laying every row out again,
a selection scattered over thousands of runs is built a slice per event-loop pass, a decision's records are
read again on a worker, the side panel re-texts its rows instead of making new widgets, and full garbage
collections (which hold every thread) come rarely and over what is new. Counted, never timed."""

from __future__ import annotations

import gc
import sys
from typing import Any

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.formatting import measure_label
from artimuse_desktop.gui.gc_pauses import HeapFreezer, calm_collections
from artimuse_desktop.gui.grid_view import LAYOUT_BATCH, RANGES_PER_PASS, GridView
from artimuse_desktop.gui.id_list import MANY_IDS, IdList

from .conftest import blank_grid, wait_idle

HUGE = 4 * LAYOUT_BATCH


class CountingGrid(GridView):
    """The grid, counting Qt's calls of its layout."""

    layouts = 0

    def doItemsLayout(self) -> None:
        self.layouts += 1
        super().doItemsLayout()


@pytest.fixture
def huge(qtbot: Any, catalog: Catalog) -> Any:
    """HUGE photo ids the catalog does not have (cells paint blank): only the rows matter."""
    with blank_grid(qtbot, catalog, CountingGrid) as (view, model):
        model.set_ids(range(1, HUGE + 1))
        qtbot.waitUntil(lambda: view.verticalScrollBar().maximum() > 0)
        yield view, model


def test_a_data_change_repaints_without_laying_every_row_out(qtbot: Any, huge: Any) -> None:
    view, model = huge
    qtbot.waitUntil(lambda: view.visualRect(model.index(HUGE - 1, 0)).isValid())  # the layout is done
    before = view.layouts
    for row in (0, 5, 9):  # what a thumbnail, a page of records or a decision announces
        model.dataChanged.emit(model.index(row, 0), model.index(row + 3, 0))
    model.repaint_visible()
    view.viewport().repaint()
    assert view.layouts == before


def test_a_huge_view_is_laid_out_in_batches_and_a_far_photo_scrolled_to_when_reached(qtbot: Any, huge: Any) -> None:
    view, model = huge
    far = model.index(HUGE - 2, 0)
    model.set_ids(range(HUGE, 0, -1))  # a new view: laid out again
    view.select_id(2)  # the row before last: not laid out yet, scrolled to when it is
    assert not view.visualRect(far).isValid() and view.layout_pending()
    qtbot.waitUntil(lambda: not view.layout_pending())
    assert view.viewport().rect().intersects(view.visualRect(far))
    assert view.current_id() == 2


def test_a_scattered_selection_is_built_in_slices_then_applied_whole(qtbot: Any, huge: Any) -> None:
    view, _model = huge
    every_other = np.arange(1, 2 * (RANGES_PER_PASS * 3) + 1, 2, dtype=np.int64)  # one run per photo
    view.restore_selection(every_other, int(every_other[-1]))
    assert view.selection_building() and view.selectionModel().selection().size() == 1  # the current photo
    assert view.current_id() == int(every_other[-1])
    assert view.selected_count() == every_other.shape[0]  # what a key acts on meanwhile: all of it
    assert np.array_equal(view.selected_id_array(), every_other)
    qtbot.waitUntil(lambda: not view.selection_building())
    assert view.selected_count() == every_other.shape[0]
    assert np.array_equal(view.selected_id_array(), every_other)

    view.restore_selection(every_other, 1)  # again, and the user clicks meanwhile: the click wins
    view.select_id(8)
    qtbot.wait(50)
    assert not view.selection_building() and view.selected_ids() == [8]


def test_many_ids_map_to_rows_in_one_pass() -> None:
    ids = IdList(np.random.default_rng(3).permutation(np.arange(10, 3 * MANY_IDS + 10)))
    wanted = np.arange(5, 2 * MANY_IDS, dtype=np.int64)  # some not shown
    rows = ids.rows_of(wanted)
    assert rows.shape[0] == 2 * MANY_IDS - 10 and bool((np.diff(rows) > 0).all())
    assert sorted(ids.ids_at(rows)) == list(range(10, 2 * MANY_IDS))
    assert ids.rows_of(wanted[:10]).tolist() == sorted(ids.rows_of(wanted[:10]).tolist())


def test_a_decision_reads_the_records_again_off_the_gui_thread(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    model, pid = window.model, photos[1]
    row = model.row_of(pid)
    assert row is not None and model.painted_record(row) is not None
    reads: list[int] = []
    model.records_fetched.connect(reads.append)
    from sqlalchemy import update

    from artimuse_desktop.catalog.models import Photo

    with catalog.write() as session:
        session.execute(update(Photo).where(Photo.id == pid).values(rating=4))
    model.refresh_ids({pid})
    painted = model.painted_record(row)
    assert painted is not None and painted.rating == 1  # painted as it was until read again, no blank cell
    assert model.cached_record(pid) is None  # but never answered as current from the cache
    qtbot.waitUntil(lambda: (r := model.cached_record(pid)) is not None and r.rating == 4)
    assert reads == [len(photos)]  # its page, read once, on the worker


def test_the_side_panel_keeps_its_rows_from_photo_to_photo(qtbot: Any, window: Any, photos: list[int]) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    panel = window.side_panel
    labels: list[int] = []
    for pid in (photos[0], photos[3], photos[7], photos[0]):
        assert window.grid.select_id(pid)
        qtbot.waitUntil(lambda pid=pid: panel.current_id() == pid)
        labels.append(len(panel.findChildren(QLabel)))
        assert ("Folder", window.model.record_for_id(pid).folder) in panel.exif_rows.shown()
    assert len(set(labels)) == 1  # re-texted, shown or hidden: no label made or dropped
    assert [row.name.text() for row in panel.measure_rows.shown()] == [measure_label("sharpness")]


def test_garbage_collections_are_calmed_and_the_idle_heap_frozen(qtbot: Any) -> None:
    old = gc.get_threshold()
    try:
        assert calm_collections((1, 1, 1)) == old and gc.get_threshold() == old  # never more often than Python
        calm_collections((old[0] * 10, old[1], old[2] * 5))
        assert gc.get_threshold() == (old[0] * 10, old[1], old[2] * 5)
    finally:
        gc.set_threshold(*old)
    idle = [False]
    freezer = HeapFreezer(lambda: idle[0], check_ms=60_000, freeze_after=2, collect_after=3, collect_every_s=0)
    try:
        freezer.check()
        idle[0] = True
        freezer.check()
        assert freezer.freezes == 0  # idle once is not idle yet
        freezer.check()
        assert freezer.freezes == 1 and gc.get_freeze_count() > 0
        freezer.check()  # idle long enough: unfrozen, collected, frozen again
        assert freezer.collections == 1 and freezer.freezes == 1
        idle[0] = False
        freezer.check()
        idle[0] = True
        freezer.check()
        freezer.check()
        assert freezer.freezes == 2  # busy in between: what survived since is frozen too
    finally:
        freezer.stop()
        gc.unfreeze()


def test_the_window_hands_the_gil_on_every_millisecond_and_never_slower_than_python_would() -> None:
    import sys

    from artimuse_desktop.gui.tasks import GIL_SWITCH_S, share_the_gil_quickly

    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        assert share_the_gil_quickly() == pytest.approx(0.005)
        assert sys.getswitchinterval() == pytest.approx(GIL_SWITCH_S)
        sys.setswitchinterval(0.0005)  # already quicker: kept
        share_the_gil_quickly()
        assert sys.getswitchinterval() == pytest.approx(0.0005)
    finally:
        sys.setswitchinterval(before)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="one thread's nice value is Linux's")
def test_the_window_runs_its_pool_threads_below_the_gui_thread(qtbot: Any) -> None:
    import os
    import threading

    from artimuse_desktop.gui import tasks

    def niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    gui = niceness()
    runner = tasks.TaskRunner(threads=1)
    answers: list[int] = []
    try:
        runner.submit("before", niceness, answers.append)  # the command line and the tests: as Python starts
        qtbot.waitUntil(lambda: len(answers) == 1)
        tasks.run_workers_below_the_gui()
        runner.submit("after", niceness, answers.append)
        runner.submit("again", niceness, answers.append)  # once per thread: not lowered twice
        runner.submit("serial", niceness, answers.append, policy=tasks.IN_ORDER)  # a pool of its own
        qtbot.waitUntil(lambda: len(answers) == 4)
    finally:
        tasks._worker_nice = None
        runner.shutdown()
    lowered = min(19, gui + tasks.WORKER_NICENESS)
    assert answers == [gui, lowered, lowered, lowered]
    assert niceness() == gui  # the GUI thread itself keeps its place
