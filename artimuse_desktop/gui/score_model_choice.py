"""Which model's score the window shows, sorts and filters by: the toolbar's "Score shown" box and the
Score ▸ Score shown menu, kept in step, and the choice written off the GUI thread in decision order."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, QSignalBlocker, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QLabel, QMenu, QWidget

from artimuse_desktop.catalog.collections import choose_score_model
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.gui.culling import WRITES
from artimuse_desktop.gui.tasks import IN_ORDER, TaskRunner


class ScoreModelChoice(QObject):
    changed = Signal()  # the catalog now shows another model's score
    failed = Signal(str)

    def __init__(self, catalog: Catalog, tasks: TaskRunner, menu: QMenu, parent: QWidget) -> None:
        super().__init__(parent)
        self._catalog, self._tasks, self.menu = catalog, tasks, menu
        self.label = QLabel("  Score shown:")
        self.label.setProperty("role", "muted")
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.setMinimumWidth(110)
        self.combo.activated.connect(lambda index: self.choose(self.combo.itemText(index)))
        menu.aboutToShow.connect(self._fill_menu)

    def toolbar_widgets(self) -> list[QWidget]:
        return [self.label, self.combo]

    def show_models(self, models: Sequence[str], current: str) -> None:
        """The catalog's models, the shown one first and chosen (without asking to change it again)."""
        with QSignalBlocker(self.combo):
            self.combo.clear()
            self.combo.addItems(list(dict.fromkeys([current, *models])))
            self.combo.setCurrentText(current)

    def choose(self, name: str) -> None:
        """Show, sort and filter by ``name``'s score (written on the in-order catalog-writes channel)."""
        catalog = self._catalog
        self._tasks.submit(
            WRITES,
            lambda: choose_score_model(catalog, name),
            lambda _name: self.changed.emit(),
            lambda text: self.failed.emit(f"Could not change the score model: {text}"),
            policy=IN_ORDER,
        )

    def _fill_menu(self) -> None:
        self.menu.clear()
        for i in range(self.combo.count()):
            name = self.combo.itemText(i)
            action: QAction = self.menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name == self.combo.currentText())
            action.triggered.connect(lambda _=False, name=name: self.choose(name))
