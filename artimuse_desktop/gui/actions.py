"""Lightroom-compatible culling keys and the decisions they write.

P pick, X reject, U unflag, 0–5 stars, 6–9 colour labels (red, yellow, green, blue; pressing the same label
again removes it), Ctrl+Z / Ctrl+Shift+Z undo and redo, G grid, E or Space loupe, Z 100 % zoom, C compare.
Shift with a decision key moves on to the next photo afterwards (Lightroom's Caps Lock behaviour); the
``auto_advance`` setting does that for every decision, since Qt cannot read the Caps Lock state portably.

Each decision is written at once through ``culling.decisions`` (its own short transaction, appended to the
undo log), so it survives a crash and undo/redo work across restarts. A decision on a few photos is written
before the key press returns; large batches and undo/redo go to a single writer thread (in order), so the
window never freezes on a 30,000-photo selection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.culling import decisions
from artimuse_desktop.culling.decisions import DecisionChange
from artimuse_desktop.gui.tasks import register_pool

log = logging.getLogger(__name__)

Key = Qt.Key

FLAG_KEYS: dict[int, int] = {Key.Key_P: 1, Key.Key_X: -1, Key.Key_U: 0}
RATING_KEYS: dict[int, int] = {getattr(Key, f"Key_{n}"): n for n in range(6)}
LABEL_KEYS: dict[int, str] = {Key.Key_6: "red", Key.Key_7: "yellow", Key.Key_8: "green", Key.Key_9: "blue"}
# Shift+digit arrives as the shifted symbol (US layout), so map those back to their digit.
SHIFTED_DIGITS: dict[int, int] = {
    Key.Key_ParenRight: Key.Key_0,
    Key.Key_Exclam: Key.Key_1,
    Key.Key_At: Key.Key_2,
    Key.Key_NumberSign: Key.Key_3,
    Key.Key_Dollar: Key.Key_4,
    Key.Key_Percent: Key.Key_5,
    Key.Key_AsciiCircum: Key.Key_6,
    Key.Key_Ampersand: Key.Key_7,
    Key.Key_Asterisk: Key.Key_8,
    Key.Key_ParenLeft: Key.Key_9,
}
VIEW_KEYS: dict[int, str] = {
    Key.Key_G: "grid",
    Key.Key_E: "loupe",
    Key.Key_Space: "toggle",
    Key.Key_Z: "zoom",
    Key.Key_C: "compare",
    Key.Key_Escape: "grid",
}
FLAG_WORDS = {1: "Picked", -1: "Rejected", 0: "Unflagged"}
#: Decisions on more photos than this are written on the writer thread so the window never freezes.
LARGE_BATCH = 2000


@dataclass(frozen=True)
class KeyBinding:
    """One row of the keyboard help (Help ▸ Keyboard shortcuts)."""

    keys: str
    action: str


KEY_HELP: tuple[KeyBinding, ...] = (
    KeyBinding("P / X / U", "Pick / reject / unflag"),
    KeyBinding("0–5", "Star rating"),
    KeyBinding("6 / 7 / 8 / 9", "Red / yellow / green / blue label (again to remove)"),
    KeyBinding("Shift + key", "Apply and move to the next photo"),
    KeyBinding("← → ↑ ↓", "Move"),
    KeyBinding("Ctrl+Z / Ctrl+Shift+Z", "Undo / redo"),
    KeyBinding("G", "Grid"),
    KeyBinding("E / Space", "Loupe"),
    KeyBinding("Z", "100 % zoom (at the clicked point)"),
    KeyBinding("C", "Compare the selected photos (2–4)"),
    KeyBinding("Ctrl + / Ctrl −", "Thumbnail size"),
    KeyBinding("Esc", "Back to the grid"),
)


class CullingController(QObject):
    """Turns keys into decisions on ``targets()`` and view requests; the window listens to its signals."""

    changed = Signal(object)  # DecisionChange
    busy_changed = Signal(bool)
    view_requested = Signal(str)  # grid | loupe | toggle | zoom | compare
    advance_requested = Signal(int)
    message = Signal(str)
    error = Signal(str)

    def __init__(
        self,
        catalog: Catalog,
        targets: Callable[[], list[int]],
        *,
        auto_advance: Callable[[], bool] = lambda: False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.targets = targets
        self.auto_advance = auto_advance
        # One writer thread: queued writes reach the catalog in the order the keys were pressed.
        self._writer = register_pool(QThreadPool(self))
        self._writer.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.written.connect(self._written)
        self._queued = 0
        self._closed = False

    # ------------------------------------------------------------------ keys

    def handle_key(self, event: QKeyEvent) -> bool:
        """True when the key was a culling or view key (and has been acted on)."""
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ctrl = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
        shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        key = event.key()
        if ctrl and key == Key.Key_Z:
            if shift:
                self.redo()
            else:
                self.undo()
            return True
        if event.matches(QKeySequence.StandardKey.Redo):
            self.redo()
            return True
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo()
            return True
        if modifiers & (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
        ):
            return False
        key = SHIFTED_DIGITS.get(key, key)
        if key in FLAG_KEYS:
            self.set_flag(FLAG_KEYS[key], advance=shift)
            return True
        if key in RATING_KEYS:
            self.set_rating(RATING_KEYS[key], advance=shift)
            return True
        if key in LABEL_KEYS:
            self.set_label(LABEL_KEYS[key], advance=shift)
            return True
        if key in VIEW_KEYS and not shift:
            self.view_requested.emit(VIEW_KEYS[key])
            return True
        return False

    # ------------------------------------------------------------------ decisions

    def set_flag(self, value: int, *, advance: bool = False) -> None:
        self._apply("flag", value, advance=advance, toggle=False)

    def set_rating(self, value: int, *, advance: bool = False) -> None:
        self._apply("rating", value, advance=advance, toggle=False)

    def set_label(self, value: str | None, *, advance: bool = False) -> None:
        self._apply("color_label", value, advance=advance, toggle=value is not None)

    def _apply(self, field: str, value: int | str | None, *, advance: bool, toggle: bool) -> None:
        ids = self.targets()
        if not ids:
            return
        catalog = self.catalog

        def write() -> DecisionChange | None:
            return decisions.set_decision(catalog, ids, field, value, toggle=toggle)

        def done(change: DecisionChange | None) -> None:
            if change is not None:
                self.changed.emit(change)
                self.message.emit(describe(change, field, value, len(ids)))

        self.run(write, done, failure="Could not save the decision", background=len(ids) > LARGE_BATCH)
        if (advance or self.auto_advance()) and len(ids) == 1:
            self.advance_requested.emit(1)

    def undo(self) -> None:
        catalog = self.catalog

        def done(change: DecisionChange | None) -> None:
            if change is None:
                self.message.emit("Nothing to undo")
                return
            self.changed.emit(change)
            self.message.emit(f"Undo: {_field_word(change.field)} of {_photos(len(change.photo_ids))}")

        # An undo may replay a batch of any size (one event per photo): never on the GUI thread.
        self.run(lambda: decisions.undo(catalog), done, failure="Could not undo", background=True)

    def redo(self) -> None:
        catalog = self.catalog

        def done(change: DecisionChange | None) -> None:
            if change is None:
                self.message.emit("Nothing to redo")
                return
            self.changed.emit(change)
            self.message.emit(f"Redo: {_field_word(change.field)} of {_photos(len(change.photo_ids))}")

        self.run(lambda: decisions.redo(catalog), done, failure="Could not redo", background=True)

    # ------------------------------------------------------------------ the serial writer

    def run(
        self,
        write: Callable[[], DecisionChange | None],
        done: Callable[[DecisionChange | None], None],
        *,
        failure: str,
        background: bool = False,
    ) -> None:
        """Write now (small, nothing queued: the catalog is updated before the key is released) or queue it
        behind earlier writes on the one writer thread (large batches, undo/redo), keeping their order."""
        if self._closed:
            return
        if not background and self._queued == 0:
            try:
                change = write()
            except Exception as exc:
                log.exception("%s", failure)
                self.error.emit(f"{failure}: {exc}")
                return
            done(change)
            return
        self._queued += 1
        self.busy_changed.emit(True)
        self._writer.start(_Write(self._relay, write, done, failure))

    def busy(self) -> bool:
        """A queued write has not been applied yet."""
        return self._queued > 0

    def wait(self, msecs: int = 30000) -> bool:
        """Block until queued writes are in the catalog (closing the window, tests)."""
        return bool(self._writer.waitForDone(msecs))

    def shutdown(self, msecs: int = 120000) -> None:
        """Let every queued decision reach the catalog, then refuse new ones."""
        self._writer.waitForDone(msecs)
        self._closed = True

    def _written(self, done: object, change: object, error: object) -> None:
        self._queued = max(0, self._queued - 1)
        if self._queued == 0:
            self.busy_changed.emit(False)
        if self._closed:
            return
        if error is not None:
            self.error.emit(str(error))
            return
        if callable(done):
            done(change)


class _Relay(QObject):
    written = Signal(object, object, object)  # done callback, DecisionChange or None, error text or None


class _Write(QRunnable):
    def __init__(
        self,
        relay: _Relay,
        write: Callable[[], DecisionChange | None],
        done: Callable[[DecisionChange | None], None],
        failure: str,
    ) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._relay = relay
        self._write = write
        self._done = done
        self._failure = failure

    def run(self) -> None:
        try:
            change = self._write()
        except Exception as exc:
            log.exception("%s", self._failure)
            self._relay.written.emit(self._done, None, f"{self._failure}: {exc}")
            return
        self._relay.written.emit(self._done, change, None)


def _photos(count: int) -> str:
    return f"{count:,} photo" + ("" if count == 1 else "s")


def _field_word(field: str) -> str:
    return {"flag": "flag", "rating": "rating", "color_label": "colour label"}.get(field, field)


def describe(change: DecisionChange, field: str, value: int | str | None, asked: int) -> str:
    """A short status-bar sentence for a decision."""
    count = _photos(len(change.photo_ids))
    if field == "flag" and isinstance(value, int):
        return f"{FLAG_WORDS.get(value, 'Flagged')} {count}"
    if field == "rating":
        return f"Rated {count} {value} star" + ("" if value == 1 else "s")
    if value is None:
        return f"Colour label removed from {count}"
    return f"Colour label {value} toggled on {count}"
