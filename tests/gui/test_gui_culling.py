"""Culling with Lightroom's keys on the grid, written to the catalog at once, with persistent undo/redo."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.queries import get_photo
from artimuse_desktop.culling import decisions

from .conftest import wait_idle


def decision(catalog: Catalog, photo_id: int) -> tuple[int, int, str | None]:
    with catalog.read() as session:
        record = get_photo(session, photo_id)
    assert record is not None
    return record.flag, record.rating, record.color_label


def test_keys_write_decisions_and_undo_redo(qtbot: Any, window: Any, catalog: Catalog, photos: list[int]) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    grid = window.grid
    target = photos[4]  # echo: unflagged, no stars, no label
    assert grid.select_id(target)
    assert decision(catalog, target) == (0, 0, None)

    qtbot.keyClick(grid, Qt.Key.Key_P)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert decision(catalog, target)[0] == 1
    qtbot.keyClick(grid, Qt.Key.Key_X)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert decision(catalog, target)[0] == -1
    qtbot.keyClick(grid, Qt.Key.Key_U)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert decision(catalog, target)[0] == 0
    qtbot.keyClick(grid, Qt.Key.Key_3)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert decision(catalog, target)[1] == 3
    qtbot.keyClick(grid, Qt.Key.Key_6)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert decision(catalog, target)[2] == "red"
    qtbot.keyClick(grid, Qt.Key.Key_6)  # the same label again removes it (Lightroom)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert decision(catalog, target)[2] is None
    qtbot.keyClick(grid, Qt.Key.Key_9)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert decision(catalog, target)[2] == "blue"

    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)  # written off the GUI thread, in order
    assert decision(catalog, target)[2] is None
    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)  # written off the GUI thread, in order
    assert decision(catalog, target)[2] == "red"  # undoing the toggle-off brings red back
    qtbot.keyClick(grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    wait_idle(qtbot, window)  # written off the GUI thread, in order
    assert decision(catalog, target)[2] is None
    # the row repaints from the catalog: the model's record follows
    record = window.model.record_for_id(target)
    assert record is not None and record.rating == 3 and record.color_label is None
    # the cursor never moved: auto-advance is off by default
    assert grid.current_id() == target
    # undo survives a restart: it lives in the catalog, not in the window
    change = decisions.undo(catalog)
    assert change is not None and decision(catalog, target)[2] == "red"


def test_multi_selection_applies_to_all_selected(qtbot: Any, window: Any, catalog: Catalog, photos: list[int]) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    chosen = [photos[1], photos[4], photos[7]]
    window.grid.select_ids(chosen, chosen[0])
    assert sorted(window.grid.selected_ids()) == sorted(chosen)
    qtbot.keyClick(window.grid, Qt.Key.Key_X)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert all(decision(catalog, pid)[0] == -1 for pid in chosen)
    assert decision(catalog, photos[0])[0] == 1  # untouched
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one batch, one undo
    wait_idle(qtbot, window)  # written off the GUI thread, in order
    assert [decision(catalog, pid)[0] for pid in chosen] == [0, 0, 0]


def test_shift_key_and_auto_advance_move_on(qtbot: Any, window: Any, catalog: Catalog, photos: list[int]) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    ids = window.model.ids()
    window.grid.select_id(ids[0])
    qtbot.keyClick(window.grid, Qt.Key.Key_P, Qt.KeyboardModifier.ShiftModifier)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert decision(catalog, ids[0])[0] == 1
    assert window.grid.current_id() == ids[1]
    window.settings.auto_advance = True
    qtbot.keyClick(window.grid, Qt.Key.Key_2)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert decision(catalog, ids[1])[1] == 2
    assert window.grid.current_id() == ids[2]


def test_loupe_keys_act_on_the_shown_photo(qtbot: Any, window: Any, catalog: Catalog, photos: list[int]) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    ids = window.model.ids()
    window.grid.select_ids(ids[:3], ids[1])
    qtbot.keyClick(window.grid, Qt.Key.Key_E)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert window.stack.currentWidget() is window.loupe
    qtbot.keyClick(window.loupe.image, Qt.Key.Key_4)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert decision(catalog, ids[1])[1] == 4
    assert decision(catalog, ids[0])[1] != 4 or ids[0] == photos[3]
    qtbot.keyClick(window.loupe.image, Qt.Key.Key_Right)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert window.grid.current_id() == ids[2]
    assert window.loupe.record is not None and window.loupe.record.id == ids[2]
    qtbot.keyClick(window.loupe.image, Qt.Key.Key_G)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread, in order
    assert window.stack.currentWidget() is window.grid


def test_keep_best_of_bursts_is_one_undoable_batch(qtbot: Any, window: Any, catalog: Catalog, tmp_path: Any) -> None:
    from tests.factory import PhotoSpec, add_assessment, add_photos

    specs = [PhotoSpec(f"burst{i}.jpg", "b", seconds=i * 0.5, phash="f0f0f0f0f0f0f0f0") for i in range(4)]
    specs.append(PhotoSpec("alone.jpg", "b", seconds=100, phash="0f0f0f0f0f0f0f0f"))
    ids = add_photos(catalog, tmp_path / "burst", specs)
    for pid, score in zip(ids, [40.0, 80.0, 60.0, 20.0, 50.0], strict=True):
        add_assessment(catalog, pid, "technical", score)
    window.refresh_bursts()
    wait_idle(qtbot, window)
    window.reload_view()
    wait_idle(qtbot, window)
    assert len(window.queries.bursts.bursts) == 1
    burst = window.queries.bursts.bursts[0]
    assert burst.best_id == ids[1] and burst.count == 4
    assert window.model.burst_count(ids[1]) == 4
    window.grid.select_id(ids[0])
    window.keep_best_of_bursts()
    wait_idle(qtbot, window)
    assert [decision(catalog, pid)[0] for pid in ids] == [-1, 1, -1, -1, 0]
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)  # written off the GUI thread, in order
    assert [decision(catalog, pid)[0] for pid in ids] == [0, 0, 0, 0, 0]
    # collapsing bursts shows only the best frame
    window.collapse_action.trigger()
    wait_idle(qtbot, window)
    shown = window.model.ids()
    assert ids[1] in shown and not {ids[0], ids[2], ids[3]} & set(shown) and ids[4] in shown
