"""Keys always reach the photos: after a drop-down choice or a button click P still picks and the arrows still
move through the grid; only a text field being edited keeps its keys; Ctrl+plus/minus work from anywhere."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.queries import get_photo

from .conftest import wait_idle


def _flag(catalog: Catalog, photo_id: int) -> int:
    with catalog.read() as session:
        record = get_photo(session, photo_id)
    assert record is not None
    return record.flag


def test_after_choosing_a_sort_the_keys_cull_and_move(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.reload_view()
    wait_idle(qtbot, window)
    combo = window.filter_bar.sort.combo
    combo.setFocus()
    combo.setCurrentIndex(1)
    combo.activated.emit(1)  # what a click on an item in the drop-down sends
    wait_idle(qtbot, window)
    chosen_sort = combo.currentIndex()
    ids = window.model.ids()
    window.grid.select_id(ids[0])
    focus = window.focusWidget()
    assert focus is window.grid  # the drop-down handed the keys back
    combo.setFocus()  # even with the focus left on the drop-down …
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentIndex() == chosen_sort  # … the down arrow does not change the sort
    assert window.grid.current_id() == window.model.id_at(window.grid.currentIndex().row())
    current = window.grid.current_id()
    assert current != ids[0]  # it moved through the grid instead
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_P)
    wait_idle(qtbot, window)
    assert _flag(catalog, current) == 1


def test_a_button_with_focus_passes_culling_keys_on(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    target = photos[4]
    window.grid.select_id(target)
    button = window.filter_bar.more_button if hasattr(window.filter_bar, "more_button") else None
    widget = button or window.size_slider
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_X)
    wait_idle(qtbot, window)
    assert _flag(catalog, target) == -1


def test_thumbnail_zoom_keys_work_from_the_search_field(qtbot: Any, window: Any, photos: list[int]) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.grid.set_thumb_size(120)
    window.filter_bar.search.setFocus()
    qtbot.keyClick(window.filter_bar.search, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert window.grid.thumb_size > 120
    assert window.filter_bar.search.text() == ""
