"""Which page the centre shows (welcome, grid, loupe, compare) and moving between them, as Lightroom does:
G grid, E loupe, Space between the two, Z 100 %, C compare the selection (2–4 photos)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from artimuse_desktop.gui.compare import MAX_PANES

_ACTIONS = {"grid": "view.grid", "loupe": "view.loupe", "compare": "view.compare"}


class ViewModes:
    def __init__(self, window: Any) -> None:
        self.window = window
        self.current = "grid"

    def current_widget(self) -> Any:
        """The photo view that takes the keys now (the grid while the welcome page shows)."""
        w = self.window
        return {"loupe": w.loupe, "compare": w.compare}.get(self.current, w.grid)

    def focus_photos(self) -> None:
        widget = self.current_widget()
        (widget.image if widget is self.window.loupe else widget).setFocus()

    def _check(self, name: str) -> None:
        commands = getattr(self.window, "commands", None)
        if commands is not None and name in _ACTIONS:
            commands[_ACTIONS[name]].setChecked(True)

    def set_view(self, name: str) -> None:
        w = self.window
        if name == "loupe" and w.grid.current_id() is None:
            self._check(self.current)
            return
        if name == "compare":
            self.open_compare()
            return
        self.current = name
        page = {"grid": w.grid, "loupe": w.loupe, "welcome": w.welcome}[name]
        w.stack.setCurrentWidget(page)
        self._check(name)
        if name == "loupe":
            self.show_in_loupe()
            w.loupe.image.setFocus()
        elif name == "grid":
            w.grid.setFocus()
            index = w.grid.currentIndex()
            if index.isValid():
                w.grid.scrollTo(index)

    def request(self, request: str) -> None:
        """A view command: grid, loupe, toggle (Space), zoom (Z) or compare (C)."""
        if request == "toggle":
            self.set_view("grid" if self.current == "loupe" else "loupe")
        elif request == "zoom":
            if self.current == "compare":
                self.window.compare.zoom()
            else:
                if self.current != "loupe":
                    self.set_view("loupe")
                self.window.loupe.zoom()
        else:
            self.set_view(request)

    def open_compare(self, ids: Sequence[int] | None = None) -> None:
        w = self.window
        chosen = list(ids) if ids is not None else w.grid.selected_ids()
        current = w.grid.current_id()
        if len(chosen) < 2 and current is not None:
            row = w.model.row_of(current)
            following = w.model.id_at(row + 1) if row is not None else None
            chosen = [current] + ([following] if following is not None else [])
        chosen = chosen[:MAX_PANES]
        if len(chosen) < 2:
            w.statusBar().showMessage("Select two to four photos to compare", 4000)
            self._check(self.current)
            return
        records = [r for r in (w.model.record_for_id(pid) for pid in chosen) if r is not None]
        w.compare.set_records(records, current if current in chosen else chosen[0])
        self.current = "compare"
        w.stack.setCurrentWidget(w.compare)
        self._check("compare")
        w.compare.setFocus()

    def show_in_loupe(self) -> None:
        w = self.window
        row = w.grid.currentIndex().row()
        position = f"{row + 1:,} of {w.model.rowCount():,}" if row >= 0 else ""
        w.loupe.show_record(w.current_record(), position)

    def update_welcome(self, empty: bool) -> None:
        """The welcome page until the catalog has a photo (it shows indexing progress meanwhile)."""
        w = self.window
        if empty:
            w.stack.setCurrentWidget(w.welcome)
            w.side_panel.hide()  # nothing to describe yet
        elif w.stack.currentWidget() is w.welcome:
            w.side_panel.setVisible(w.settings.side_panel_visible)
            self.set_view("grid")
