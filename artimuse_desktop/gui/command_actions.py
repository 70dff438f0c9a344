"""QActions, menus and the toolbar made from the command table (``gui.commands``), for one window."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMainWindow, QMenu, QMenuBar, QToolBar

from artimuse_desktop.gui.commands import (
    CULLING,
    MENUS,
    SEPARATOR_BEFORE,
    TOOLBAR,
    TOOLBAR_AFTER_MODEL,
    Command,
    KeyDispatcher,
)

VIEW_MODES = ("view.grid", "view.loupe", "view.compare")


class CommandActions:
    """One QAction per command; window shortcuts are real, culling keys go through ``keys``."""

    def __init__(self, window: QMainWindow, commands: tuple[Command, ...]) -> None:
        self.window = window
        self.commands = commands
        self.keys = KeyDispatcher(window, commands)
        self.actions: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {}
        for command in commands:
            self.actions[command.id] = self._make(command)
        self.view_group = QActionGroup(window)
        self.view_group.setExclusive(True)
        for cid in VIEW_MODES:
            self.actions[cid].setCheckable(True)
            self.view_group.addAction(self.actions[cid])
        self.actions["view.grid"].setChecked(True)

    def _make(self, command: Command) -> QAction:
        hint = command.key_text().split(" / ")[0] if command.context == CULLING else ""
        action = QAction(f"{command.text}\t{hint}" if hint else command.text, self.window)
        action.setObjectName(command.id)
        if command.short:
            action.setIconText(command.short)
        if command.context != CULLING:
            action.setShortcuts(command.key_sequences())
        tip = command.tip or command.text
        keys = command.key_text().split(" / ")[0]
        action.setToolTip(f"{tip} ({keys})" if keys and not command.tip else tip)
        action.setCheckable(command.checkable)
        action.triggered.connect(lambda _checked=False, command=command: command.run(self.window, False))
        self.window.addAction(action)
        return action

    def build_menus(self) -> None:
        """The menu bar from the command table. Every menu is made here in Python and then added: the menus
        ``addMenu(title)`` makes in C++ came back, once in a while, as a stale ``QWidget`` wrapper (PySide
        found an old wrapper at the reused address), and the window failed to open on ``addSeparator``."""
        bar = self.window.menuBar()
        for title in MENUS:
            self.menus[title] = self.add_menu(bar, f"&{title}")
        for command in self.commands:
            if not command.menu:
                continue
            menu = self._menu(command.menu)
            if command.id in SEPARATOR_BEFORE:
                menu.addSeparator()
            menu.addAction(self.actions[command.id])

    def _menu(self, path: str) -> QMenu:
        if path in self.menus:
            return self.menus[path]
        parent_path, _, title = path.rpartition("/")
        menu = self.add_menu(self._menu(parent_path), title)
        self.menus[path] = menu
        return menu

    @staticmethod
    def add_menu(parent: QMenuBar | QMenu, title: str) -> QMenu:
        """A submenu made in Python (see ``build_menus``), added to ``parent``."""
        menu = QMenu(title, parent)
        parent.addMenu(menu)
        return menu

    def add_to_toolbar(self, toolbar: QToolBar, ids: tuple[str, ...]) -> None:
        for cid in ids:
            if cid == "|":
                toolbar.addSeparator()
            else:
                toolbar.addAction(self.actions[cid])

    def build_toolbar(self, toolbar: QToolBar, model_widgets: list[Any]) -> None:
        """The main toolbar: folder, view modes, Score, the score-model chooser, burst commands."""
        self.add_to_toolbar(toolbar, TOOLBAR)
        for widget in model_widgets:
            toolbar.addWidget(widget)
        toolbar.addSeparator()
        self.add_to_toolbar(toolbar, TOOLBAR_AFTER_MODEL)

    def update_enabled(self) -> None:
        for command in self.commands:
            if command.enabled is not None:
                self.actions[command.id].setEnabled(bool(command.enabled(self.window)))

    def __getitem__(self, command_id: str) -> QAction:
        return self.actions[command_id]
