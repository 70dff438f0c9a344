"""Culling keys always reach the photos, as in Lightroom: after a choice in a drop-down, a click on a button or
a slider, P still picks and the arrows still move through the grid. Only a text field being edited keeps its keys
(typing "p" in the search box searches for "p"), and a popup or dialog keeps its own.

Installed on the application; it acts only for key presses inside the main window whose focus is outside the
photo views (those offer every key to the command table themselves).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

#: Keys that move through the photos; a drop-down or button that has focus must not eat them.
MOVE_KEYS = frozenset(
    {
        Qt.Key.Key_Left,
        Qt.Key.Key_Right,
        Qt.Key.Key_Up,
        Qt.Key.Key_Down,
        Qt.Key.Key_PageUp,
        Qt.Key.Key_PageDown,
        Qt.Key.Key_Home,
        Qt.Key.Key_End,
    }
)
_TEXT = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)
_CONTROLS = (QComboBox, QAbstractButton, QAbstractSlider)


def is_text_entry(widget: QWidget | None) -> bool:
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    return isinstance(widget, _TEXT)


class PhotoKeys(QObject):
    """Hands culling and move keys pressed on the window's controls to the current photo view."""

    def __init__(
        self,
        window: QWidget,
        photo_views: Callable[[], list[QWidget]],
        current_view: Callable[[], QWidget],
        handle: Callable[[QKeyEvent], bool],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._photo_views = photo_views
        self._current_view = current_view
        self._handle = handle

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        focus = QApplication.focusWidget()
        if focus is None or focus.window() is not self._window or QApplication.activePopupWidget() is not None:
            return False
        if watched is not focus or is_text_entry(focus) or self._in_photo_view(focus):
            return False
        if self._handle(event):
            return True
        if event.key() in MOVE_KEYS and isinstance(focus, _CONTROLS) and not event.modifiers():
            view = self._current_view()
            view.setFocus()
            QApplication.sendEvent(view, QKeyEvent(event.type(), event.key(), event.modifiers(), event.text()))
            return True
        return False

    def _in_photo_view(self, widget: QWidget) -> bool:
        return any(view is widget or view.isAncestorOf(widget) for view in self._photo_views())

    def uninstall(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)


def install_photo_keys(window: Any) -> PhotoKeys:
    """The window's filter on the application (removed again by ``uninstall`` when the window closes)."""
    keys = PhotoKeys(
        window,
        lambda: [window.grid, window.loupe, window.compare],
        window.views.current_widget,
        window.commands.keys.handle,
    )
    app = QApplication.instance()
    if app is not None:
        app.installEventFilter(keys)
    return keys


def hand_focus_back(window: Any) -> None:
    """After a choice in a drop-down of the filter bar or the toolbar, the photos have the keys again."""
    combos = [c for c in window.filter_bar.findChildren(QComboBox) if c.window() is window]
    for combo in [*combos, window.score_model_combo]:
        combo.activated.connect(lambda _index: window.views.focus_photos())
