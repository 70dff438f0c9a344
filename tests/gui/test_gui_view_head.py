"""A view change shows its first screens first: the head (the first ids and the row count), then the whole
id list swapped in without a reset, rows past the head read by offset when painted before it came."""

from __future__ import annotations

from typing import Any

from artimuse_desktop.catalog.collections import ViewQuery, run_view_head, run_view_page
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from artimuse_desktop.gui.id_list import IdList
from tests.factory import add_photo

from .conftest import wait_idle

ALL = ViewQuery("all", None, PhotoFilter(), SortSpec("filename", False), False)


def test_a_partial_id_list_knows_its_head_and_what_is_filled_in() -> None:
    ids = IdList.partial([40, 10, 30], 6)
    assert len(ids) == 6 and not ids.complete
    assert ids.at(1) == 10 and ids.at(4) is None and ids.slice(0, 6) == [40, 10, 30]
    assert ids.row_of(30) == 2 and ids.row_of(99) is None and ids.row_of(-1) is None
    assert ids.rows_of([30, 40, 99]).tolist() == [0, 2]
    assert ids.known(0, 3) and not ids.known(2, 5)
    ids.fill(3, [60, 50, 20])
    assert ids.known(0, 6) and ids.row_of(20) == 5
    assert ids.agrees_with(IdList([40, 10, 30, 60, 50, 20]))
    assert not ids.agrees_with(IdList([40, 10, 30, 60, 50])) and not ids.agrees_with(IdList([1, 2, 3, 4, 5, 6]))
    assert IdList.partial([1, 2], 2).complete  # the head was the whole view


def test_the_head_counts_the_whole_view(catalog: Catalog, photos: list[int]) -> None:
    head = run_view_head(catalog, ALL, 3)
    assert head.ids.shape[0] == 3 and head.count == head.collection_total == head.catalog_total == 10
    assert not head.complete and run_view_head(catalog, ALL, 50).complete
    whole = run_view_head(catalog, ALL, 50).ids.tolist()
    assert head.ids.tolist() == whole[:3] and run_view_page(catalog, ALL, 7, 5) == whole[7:]


def test_the_whole_list_comes_after_the_head_and_keeps_the_current_photo(
    qtbot: Any, window: Any, photos: list[int]
) -> None:
    window.filter_bar.set_sort("filename", False)
    wait_idle(qtbot, window)
    expected = window.model.ids()
    window.grid.select_id(expected[8])  # past the head: found again once the whole list is there
    loaded: list[tuple[bool, int, list[int]]] = []  # as each answer came (pages fill a partial list in later)
    resets: list[int] = []
    window.queries.view_loaded.connect(lambda v: loaded.append((v.ids.complete, len(v.ids), v.ids.slice(0, 10))))
    window.model.modelReset.connect(lambda: resets.append(1))
    window.queries.HEAD = 3
    window.reload_view()
    wait_idle(qtbot, window)
    assert [complete for complete, _, _ in loaded] == [False, True]
    assert loaded[0][1:] == (10, expected[:3])
    assert len(resets) == 1  # the head resets the grid; the whole list is swapped in
    assert window.model.ids() == expected and window.model.id_list().complete
    assert window.grid.current_id() == expected[8]
    assert window.filter_bar.histogram.counts() and sum(window.filter_bar.histogram.counts()) == 9


def test_rows_past_the_head_are_read_by_offset(qtbot: Any, window: Any, catalog: Catalog, photos: list[int]) -> None:
    wait_idle(qtbot, window)
    whole = run_view_head(catalog, ALL, 50).ids.tolist()
    model = window.model
    model.set_ids(
        IdList.partial(whole[:3], 10), page_ids=lambda offset, limit: run_view_page(catalog, ALL, offset, limit)
    )
    assert model.id_at(8) is None and model.painted_record(8) is None  # a placeholder, its page asked for
    qtbot.waitUntil(lambda: model.painted_record(8) is not None)
    assert model.id_at(8) == whole[8] and model.row_of(whole[9]) == 9
    assert not model.complete_ids(IdList(list(reversed(whole))))  # another view: the caller resets
    assert model.complete_ids(IdList(whole)) and model.id_list().complete


def test_a_sort_change_counts_again_once_the_catalog_changed(qtbot: Any, window: Any, photos: list[int]) -> None:
    """The counts of the last head are kept for a sort change, never past a commit (here another connection's,
    which the window was not told about)."""
    window.filter_bar.set_sort("filename", False)
    wait_idle(qtbot, window)
    assert len(window.model.ids()) == 10
    window.filter_bar.set_sort("captured_at", False)  # the sort alone: the counts of the last head serve
    wait_idle(qtbot, window)
    assert len(window.model.ids()) == 10
    add_photo(window.catalog, "/elsewhere/kilo.jpg")
    window.filter_bar.set_sort("filename", True)
    wait_idle(qtbot, window)
    assert len(window.model.ids()) == 11 and "11 of 11" in window.filter_bar.count_label.text()


def test_the_library_stats_wait_for_the_view(qtbot: Any, window: Any, photos: list[int]) -> None:
    """Asked together (a change that needs both), the counts beside the collections come after the grid's
    rows, the head and then the whole list: at 300,000 photos they are seconds of work that took the CPU and
    the GIL the first screens needed."""
    window.queries.HEAD = 3  # a head, then a whole list
    wait_idle(qtbot, window)
    order: list[str] = []
    window.queries.view_loaded.connect(lambda view: order.append("whole" if view.ids.complete else "head"))
    window.queries.stats_loaded.connect(lambda _stats: order.append("stats"))
    window.reload_view()
    window.queries.refresh_stats()  # asked while the view is read: held until it is in
    wait_idle(qtbot, window)
    assert order[:3] == ["head", "whole", "stats"]
