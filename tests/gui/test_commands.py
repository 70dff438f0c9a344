"""The command table is the one source of keys, menus, the culling key handler and the key help."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.queries import get_photo
from artimuse_desktop.gui.commands import COMMANDS, CULLING, WINDOW, help_rows, key_conflicts, readme_key_table

from .conftest import wait_idle

README = Path(__file__).resolve().parents[2] / "README.md"


def test_keys_are_unique_per_context_and_window_keys_never_shadow_culling_keys(qapp: Any) -> None:
    assert key_conflicts() == []
    ids = [command.id for command in COMMANDS]
    assert len(ids) == len(set(ids))
    assert {command.context for command in COMMANDS} == {WINDOW, CULLING}


def test_readme_key_table_says_what_the_table_says(qapp: Any) -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- keys:[^>]*-->\n(.*?)\n<!-- /keys -->", text, re.DOTALL)
    assert block is not None, "README.md lost its generated key table markers"
    assert block.group(1) == readme_key_table()


def test_a_conflicting_table_is_reported(qapp: Any) -> None:
    from dataclasses import replace

    pick = next(c for c in COMMANDS if c.id == "photo.pick")
    clash = replace(pick, id="photo.clash", keys=("P",))
    window_clash = replace(pick, id="window.clash", keys=("P",), context=WINDOW)
    assert any("photo.clash" in problem for problem in key_conflicts([*COMMANDS, clash]))
    assert any("shadows photo.pick" in problem for problem in key_conflicts([*COMMANDS, window_clash]))


def test_menus_shortcuts_and_help_come_from_the_table(qtbot: Any, window: Any) -> None:
    actions = window.commands.actions
    for command in COMMANDS:
        action = actions[command.id]
        if command.context == WINDOW:
            assert [s.toString() for s in action.shortcuts()] == [s.toString() for s in command.key_sequences()]
        else:  # culling keys are hints in menus, never shortcuts that would steal typing
            assert action.shortcuts() == []
            if command.keys and command.menu:
                assert action.text().endswith("\t" + command.key_text().split(" / ")[0])
    in_menus = {a.objectName() for menu in window.commands.menus.values() for a in menu.actions()}
    assert {c.id for c in COMMANDS if c.menu} <= in_menus
    # every menu is one made in Python (a wrapper PySide looked up for a C++-made menu once came back stale)
    assert all(type(menu) is QMenu for menu in window.commands.menus.values())
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[:2] == ["&File", "&Edit"] and all(a.menu() is not None for a in window.menuBar().actions())
    assert help_rows()[0].action == "Pick / reject / unflag"


def test_culling_keys_reach_photos_but_not_the_search_field(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    target = photos[4]
    window.grid.select_id(target)
    window.filter_bar.search.setFocus()
    qtbot.keyClicks(window.filter_bar.search, "p")
    wait_idle(qtbot, window)
    with catalog.read() as session:
        assert get_photo(session, target).flag == 0  # typed into the search box, not a pick
    assert window.filter_bar.search.text() == "p"
    window.filter_bar.search.clear()
    wait_idle(qtbot, window)
    window.grid.select_id(target)
    qtbot.keyClick(window.grid, Qt.Key.Key_P)
    wait_idle(qtbot, window)
    with catalog.read() as session:
        assert get_photo(session, target).flag == 1
    window.commands.actions["photo.reject"].trigger()  # the menu item runs the same command
    wait_idle(qtbot, window)
    with catalog.read() as session:
        assert get_photo(session, target).flag == -1
