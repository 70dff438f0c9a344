"""The grid's right-click menu: flag, rating, label, export the selection, reveal in the file manager, copy path.

Every item is the window's ``QAction`` for a row of the command table (``gui.commands``), so the menu does
exactly what the key and the menu bar do, with the same key hints. Right-clicking a photo outside the selection
selects it first (as every file manager does), so the menu acts on what was clicked.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtWidgets import QMenu

from artimuse_desktop.gui.commands import COMMANDS

#: The menu's layout: command ids, "|" for a separator, "@Sub-menu" for every command in that table menu.
LAYOUT: tuple[str, ...] = (
    "photo.pick",
    "photo.reject",
    "photo.unflag",
    "@Photo/Rating",
    "@Photo/Colour label",
    "|",
    "photo.export_selection",
    "photo.write_xmp",
    "|",
    "photo.reveal",
    "photo.copy_path",
)


class GridContextMenu(QObject):
    """Builds and pops up the menu for ``window.grid``; ``menu`` is the last one shown (tests drive it)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.menu: QMenu | None = None
        grid = window.grid
        grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        grid.customContextMenuRequested.connect(self.popup)

    def build(self) -> QMenu:
        actions = self.window.commands.actions
        menu = QMenu(self.window.grid)
        menu.setObjectName("gridContextMenu")
        for entry in LAYOUT:
            if entry == "|":
                menu.addSeparator()
            elif entry.startswith("@"):
                sub = self.window.commands.add_menu(menu, entry[1:].rpartition("/")[2])
                for command in COMMANDS:
                    if command.menu == entry[1:]:
                        sub.addAction(actions[command.id])
            else:
                menu.addAction(actions[entry])
        self.window.commands.update_enabled()
        return menu

    def popup(self, pos: QPoint) -> QMenu:
        """Right-click at ``pos`` (viewport coordinates): select the photo under it when it is not selected."""
        grid = self.window.grid
        index = grid.indexAt(pos)
        model = grid.photo_model()
        if index.isValid() and model is not None and not grid.selectionModel().isSelected(index):
            photo_id = model.id_at(index.row())
            if photo_id is not None:
                grid.select_id(photo_id)
        if self.menu is not None:
            self.menu.deleteLater()
        self.menu = self.build()
        self.menu.popup(grid.viewport().mapToGlobal(pos))
        return self.menu
