"""The grid stays O(visible) however many photos it shows: Qt never calls Python once per row, selections go
through ranges, pages to paint are read off the GUI thread, and a sort-only reload does not bin the scores
again. Counted with cProfile (which Python functions ran, how often), never timed."""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from typing import Any

import pytest

from artimuse_desktop.catalog.collections import histogram_counts
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.gui.id_list import IdList, rows_in_runs, runs
from tests.factory import add_assessment

from .conftest import blank_grid, wait_idle

HUGE = 200_000


def python_calls(action: Callable[[], Any], *modules: str) -> int:
    """How many calls into functions of ``modules`` (file names) ``action`` made."""
    profiler = cProfile.Profile()
    profiler.runcall(action)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    return sum(calls for (filename, _line, _name), (calls, *_rest) in stats.items() if filename.endswith(modules))


def test_id_list_maps_ids_to_rows_and_runs() -> None:
    ids = IdList([40, 10, 30, 20, 50])
    assert len(ids) == 5 and ids.at(1) == 10 and ids.at(5) is None
    assert ids.row_of(30) == 2 and ids.row_of(99) is None
    assert ids.rows_of([50, 99, 10, 40]).tolist() == [0, 1, 4]
    assert ids.ids_at(ids.rows_of([20, 40])) == [40, 20]
    assert runs(ids.rows_of([40, 10, 30, 50])) == [(0, 2), (4, 4)]
    assert rows_in_runs([(4, 4), (0, 1), (1, 2)]).tolist() == [0, 1, 2, 4]
    assert IdList().tolist() == [] and IdList().row_of(1) is None and IdList().equals(IdList([]))
    assert ids.equals(IdList([40, 10, 30, 20, 50])) and not ids.equals(IdList([10, 40, 30, 20, 50]))


def test_histogram_bins_like_the_bars_are_drawn() -> None:
    counts = histogram_counts([-5.0, 0.0, 1.99, 2.0, 49.9, 50.0, 99.99, 100.0, 120.0])
    assert len(counts) == 50 and sum(counts) == 9
    assert counts[0] == 3 and counts[1] == 1  # below 0 counts as 0; 2.0 opens the second bar
    assert counts[24] == 1 and counts[25] == 1
    assert counts[49] == 3  # 100 and above close the last bar
    assert histogram_counts([]) == [0] * 50


@pytest.fixture
def huge_grid(qtbot: Any, catalog: Catalog) -> Any:
    """A grid of HUGE photo ids the catalog does not have (cells paint blank): only the row count matters."""
    with blank_grid(qtbot, catalog) as grid:
        yield grid


def test_a_huge_view_never_calls_python_per_row(huge_grid: Any) -> None:
    view, model = huge_grid

    def browse() -> None:
        model.set_ids(range(1, HUGE + 1))
        view.scrollTo(model.index(HUGE - 1, 0))  # forces the layout of every row
        view.viewport().repaint()
        view.select_id(HUGE // 2)
        view.move_current(1)
        view.selectAll()
        view.viewport().repaint()
        assert view.selected_count() == HUGE
        view.select_id(7)
        model.refresh_all()
        model.refresh_ids(range(1, 5000))

    calls = python_calls(browse, "grid_model.py", "grid_view.py", "grid_delegate.py", "id_list.py")
    assert model.rowCount() == HUGE
    assert calls < 5_000, f"{calls} Python calls into the model for {HUGE:,} rows: something is per row"


def test_restoring_a_selection_of_everything_is_one_range(huge_grid: Any) -> None:
    view, model = huge_grid
    model.set_ids(range(1, HUGE + 1))
    view.selectAll()
    kept = view.selected_ids()
    model.set_ids(range(HUGE, 0, -1))  # the same photos, re-sorted

    calls = python_calls(lambda: view.restore_selection(kept, 5), "grid_view.py")
    selection = view.selectionModel().selection()
    assert selection.size() == 1 and view.selected_count() == HUGE
    assert view.current_id() == 5
    assert calls < 50


def test_the_sort_keeps_the_selection_and_the_histogram(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    loaded: list[list[int]] = []
    window.queries.histogram_loaded.connect(loaded.append)
    window.filter_bar.flag_combo.setCurrentIndex(0)
    window.reload_view()
    wait_idle(qtbot, window)
    window.grid.select_ids(photos[2:6], photos[3])
    window.filter_bar.set_sort("filename", False)
    wait_idle(qtbot, window)
    assert sorted(window.grid.selected_ids()) == sorted(photos[2:6])
    assert window.grid.current_id() == photos[3]
    assert loaded[-1] is loaded[-2]  # a sort-only change reuses the binned scores
    assert sum(window.filter_bar.histogram.counts()) == 9  # ten photos, one unscored

    window.culling.set_flag(1)  # a decision may change what the filter keeps: bin again
    wait_idle(qtbot, window)
    window.filter_bar.set_sort("captured_at", False)
    wait_idle(qtbot, window)
    assert loaded[-1] is not loaded[-2]
    assert sum(window.filter_bar.histogram.counts()) == 9


def test_pages_to_paint_are_read_off_the_gui_thread(qtbot: Any, window: Any, photos: list[int]) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    model = window.model
    assert model.rowCount() == len(photos)
    model.set_ids(model.ids())  # a new view: every cached page dropped
    assert model.painted_record(0) is None  # asked for, not read here
    qtbot.waitUntil(lambda: model.painted_record(0) is not None)
    record = model.painted_record(0)
    assert record is not None and record.id == model.id_at(0)
    assert model.record_for_id(photos[4]) is not None  # the synchronous path still answers


def test_new_scores_repaint_in_place_without_a_blank_grid(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    """A scoring batch changes every shown score: the cells keep their old records until the page is read
    again on a worker, then show the new score (they used to go blank in between)."""
    window.reload_view()
    wait_idle(qtbot, window)
    model = window.model
    before = model.painted_record(0)
    assert before is not None
    add_assessment(catalog, before.id, model.score_model or "technical", 12.5)
    model.refresh_all()
    assert model.painted_record(0) == before  # painted as it was while the page is read again
    assert model.cached_record(before.id) is None  # but never answered as if it were current
    qtbot.waitUntil(lambda: (record := model.painted_record(0)) is not None and record.score == 12.5)
