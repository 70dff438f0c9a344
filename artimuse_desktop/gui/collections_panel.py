"""The left panel: smart collections (All, Picks, Rejects, …) and the library's folders as a tree, with
counts.

Counts are computed off the GUI thread by the window and pushed here; the panel only displays them and says
which collection the user chose. A folder's count includes its sub-folders, like a file manager's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from artimuse_desktop.catalog.collections import SMART_COLLECTIONS

KIND_ROLE = int(Qt.ItemDataRole.UserRole) + 1
VALUE_ROLE = int(Qt.ItemDataRole.UserRole) + 2


@dataclass
class _Node:
    name: str
    path: str
    own: int = 0
    children: dict[str, _Node] = field(default_factory=dict)

    def total(self) -> int:
        return self.own + sum(child.total() for child in self.children.values())


def folder_tree(folders: Sequence[tuple[str, int]]) -> list[_Node]:
    """Nested nodes from (folder, photos directly in it), with single-child chains without photos merged
    ("/home/me/Pictures" is one row, not three)."""
    root = _Node("", "")
    for folder, count in folders:
        parts = [p for p in os.path.normpath(folder).split(os.sep) if p]
        anchor = os.sep if folder.startswith(os.sep) else ""
        node = root
        path = anchor
        for part in parts:
            drive = part + os.sep if part.endswith(":") else part  # a Windows drive needs its separator
            path = os.path.join(path, part) if path else drive
            node = node.children.setdefault(part, _Node(part, path))
        node.own += count

    def merge(node: _Node) -> _Node:
        while node.own == 0 and len(node.children) == 1:
            (child,) = node.children.values()
            name = os.path.join(node.name, child.name) if node.name else child.name
            node = _Node(name, child.path, child.own, child.children)
        node.children = {key: merge(child) for key, child in sorted(node.children.items())}
        return node

    tops = [merge(child) for _, child in sorted(root.children.items())]
    home = os.path.expanduser("~")
    for top in tops:
        top.name = top.path
        if home not in ("", os.sep) and (top.path == home or top.path.startswith(home + os.sep)):
            top.name = "~" + top.path[len(home) :]
    return tops


class CollectionsPanel(QWidget):
    """Emits ``collection_selected(kind, value)``: a smart collection's kind, or "folder" and its path."""

    collection_selected = Signal(str, object)
    rescan_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("collections")
        self.tree = QTreeWidget()
        self.tree.setObjectName("collectionsTree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(14)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)

        self._smart: dict[str, QTreeWidgetItem] = {}
        self.library_item = self._section("LIBRARY")
        for collection in SMART_COLLECTIONS:
            kind, text, tip = collection.kind, collection.title, collection.tooltip
            item = QTreeWidgetItem(self.library_item, [text, ""])
            item.setData(0, KIND_ROLE, kind)
            item.setToolTip(0, tip)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self._smart[kind] = item
        self.folders_item = self._section("FOLDERS")
        self.library_item.setExpanded(True)
        self.folders_item.setExpanded(True)
        self._folder_items: dict[str, QTreeWidgetItem] = {}
        self._folders: list[tuple[str, int]] = []
        self.tree.setCurrentItem(self._smart["all"])
        self.tree.currentItemChanged.connect(self._current_changed)

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [title, ""])
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = item.font(0)
        font.setBold(True)
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        item.setFont(0, font)
        item.setForeground(0, self.palette().placeholderText())
        return item

    # ------------------------------------------------------------------ data from the window

    def set_counts(self, counts: dict[str, int]) -> None:
        for kind, item in self._smart.items():
            value = counts.get(kind)
            item.setText(1, "" if value is None else f"{value:,}")

    def set_folders(self, folders: Sequence[tuple[str, int]]) -> None:
        folders = list(folders)
        if folders == self._folders:
            return
        self._folders = folders
        selected = self.selected()
        expanded = {path for path, item in self._folder_items.items() if item.isExpanded()}
        self.tree.blockSignals(True)
        self.folders_item.takeChildren()
        self._folder_items.clear()
        for node in folder_tree(folders):
            self._add_node(self.folders_item, node, expanded, top=True)
        if selected[0] == "folder" and selected[1] in self._folder_items:
            self.tree.setCurrentItem(self._folder_items[str(selected[1])])
        elif selected[0] == "folder":
            self.tree.setCurrentItem(self._smart["all"])
        self.tree.blockSignals(False)

    def _add_node(self, parent: QTreeWidgetItem, node: _Node, expanded: set[str], *, top: bool = False) -> None:
        item = QTreeWidgetItem(parent, [node.name, f"{node.total():,}"])
        item.setData(0, KIND_ROLE, "folder")
        item.setData(0, VALUE_ROLE, node.path)
        item.setToolTip(0, node.path)
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._folder_items[node.path] = item
        for child in node.children.values():
            self._add_node(item, child, expanded)
        item.setExpanded(top or node.path in expanded)

    # ------------------------------------------------------------------ selection

    def selected(self) -> tuple[str, object]:
        item = self.tree.currentItem()
        if item is None or item.data(0, KIND_ROLE) is None:
            return "all", None
        return str(item.data(0, KIND_ROLE)), item.data(0, VALUE_ROLE)

    def select(self, kind: str, value: object = None) -> bool:
        item = self._folder_items.get(str(value)) if kind == "folder" else self._smart.get(kind)
        if item is None:
            return False
        self.tree.setCurrentItem(item)
        return True

    def _current_changed(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        if current is None or current.data(0, KIND_ROLE) is None:
            return
        self.collection_selected.emit(str(current.data(0, KIND_ROLE)), current.data(0, VALUE_ROLE))

    def _context_menu(self, position: QPoint) -> None:
        item = self.tree.itemAt(position)
        if item is None or item.data(0, KIND_ROLE) != "folder":
            return
        menu = QMenu(self)
        path = str(item.data(0, VALUE_ROLE))
        menu.addAction("Rescan this folder", lambda: self.rescan_requested.emit(path))
        menu.exec(self.tree.viewport().mapToGlobal(position))
