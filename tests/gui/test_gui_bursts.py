"""A collapsed burst stack shows the frame the photographer rated highest; rating another frame higher changes
which one represents the stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from artimuse_desktop.catalog.db import Catalog
from tests.factory import PhotoSpec, add_assessment, add_photos

from .conftest import reload, wait_idle


def test_the_highest_rated_frame_represents_a_collapsed_stack(
    qtbot: Any, window: Any, catalog: Catalog, tmp_path: Path
) -> None:
    specs = [PhotoSpec(f"burst{i}.jpg", "b", seconds=i * 0.5, phash="f0f0f0f0f0f0f0f0") for i in range(3)]
    ids = add_photos(catalog, tmp_path / "burst", specs)
    for pid, score in zip(ids, [40.0, 80.0, 60.0], strict=True):
        add_assessment(catalog, pid, "technical", score)
    window.refresh_bursts()
    wait_idle(qtbot, window)
    window.collapse_action.trigger()
    wait_idle(qtbot, window)
    assert window.model.ids() == [ids[1]]  # the best-scored frame while nothing is rated
    window.grid.select_id(ids[1])
    window.collapse_action.trigger()  # expand, rate the first frame 5 stars, collapse again
    wait_idle(qtbot, window)
    window.grid.select_id(ids[0])
    window.culling.set_rating(5)
    wait_idle(qtbot, window)
    window.collapse_action.trigger()
    wait_idle(qtbot, window)
    assert window.model.ids() == [ids[0]]
    assert window.model.burst_count(ids[0]) == 3
    burst = window.queries.bursts.by_member[ids[0]]
    assert burst.representative_id == ids[0] and burst.reason == "kept: rated 5★"
    window.grid.select_id(ids[0])
    qtbot.waitUntil(lambda: window.side_panel.current_id() == ids[0])
    wait_idle(qtbot, window)
    assert window.side_panel.stack_note.text() == "kept: rated 5★"  # the panel says why the frame was kept


def test_a_rating_judges_again_only_the_stack_it_touches(
    qtbot: Any, window: Any, catalog: Catalog, tmp_path: Path
) -> None:
    """No search of every burst (and duplicate group) after each star: at 300,000 photos that took seconds of
    worker time that kept the GUI thread waiting for the GIL."""
    first = add_photos(
        catalog,
        tmp_path / "a",
        [PhotoSpec(f"a{i}.jpg", "a", seconds=i * 0.5, phash="f0f0f0f0f0f0f0f0") for i in range(3)],
    )
    second = add_photos(
        catalog,
        tmp_path / "b",
        [PhotoSpec(f"b{i}.jpg", "b", seconds=100 + i * 0.5, phash="0f0f0f0f0f0f0f0f") for i in range(3)],
    )
    for pid, score in zip(first + second, [40.0, 80.0, 60.0, 70.0, 50.0, 30.0], strict=True):
        add_assessment(catalog, pid, "technical", score)
    reload(qtbot, window)
    window.refresh_bursts()
    wait_idle(qtbot, window)
    before = window.queries.bursts
    untouched = before.by_member[second[0]]
    assert before.by_member[first[0]].best_id == first[1]
    window.grid.select_id(first[0])
    window.culling.set_rating(5)
    wait_idle(qtbot, window)
    after = window.queries.bursts
    assert after is not before and after.by_member[second[0]] is untouched
    assert after.by_member[first[0]].best_id == first[0]
    window.refresh_bursts()  # what a search of every burst finds
    wait_idle(qtbot, window)
    full = window.queries.bursts
    assert [b.best_id for b in full.bursts] == [b.best_id for b in after.bursts]
    assert (full.rest_ids, full.counts, full.member_ids) == (after.rest_ids, after.counts, after.member_ids)
