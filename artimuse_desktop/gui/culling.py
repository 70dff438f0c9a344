"""The photographer's decisions from the window: flags, stars, labels, keep best, undo and redo.

Keys reach this through the command table (``gui.commands``); Lightroom's set: P pick, X reject, U unflag, 0–5
stars, 6–9 colour labels (the same label again removes it), Ctrl+Z / Ctrl+Shift+Z. Shift with a decision key moves
on to the next photo afterwards (Lightroom's Caps Lock behaviour); the ``auto_advance`` setting does that for
every decision, since Qt cannot read the Caps Lock state portably.

Every decision is written by ``culling.decisions`` (its own short transaction, appended to the undo log) on the
``TaskRunner``'s in-order write channel: never on the GUI thread, always in the order the keys were pressed, and
the window closes only after every queued decision has reached the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.culling import decisions
from artimuse_desktop.culling.decisions import DecisionChange
from artimuse_desktop.gui.changes import Changes
from artimuse_desktop.gui.tasks import IN_ORDER, TaskRunner
from artimuse_desktop.vocabulary import Flag

if TYPE_CHECKING:
    from artimuse_desktop.culling.bursts import Burst

#: The channel every catalog write of the window goes through, in order.
WRITES = "catalog-writes"


class CullingController(QObject):
    """Turns commands into decisions on ``targets()``; the window listens to ``changed``."""

    changed = Signal(object)  # Changes
    advance_requested = Signal(int)
    message = Signal(str)
    error = Signal(str)

    def __init__(
        self,
        catalog: Catalog,
        tasks: TaskRunner,
        targets: Callable[[], list[int]],
        *,
        auto_advance: Callable[[], bool] = lambda: False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.catalog = catalog
        self.tasks = tasks
        self.targets = targets
        self.auto_advance = auto_advance

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
        self.run(
            lambda: decisions.set_decision(catalog, ids, field, value, toggle=toggle),
            lambda change: self.message.emit(describe(change, field, value)),
            failure="Could not save the decision",
        )
        if (advance or self.auto_advance()) and len(ids) == 1:
            self.advance_requested.emit(1)

    def keep_best_of_bursts(self, bursts: Sequence[Burst]) -> None:
        """Keep each burst's best frame and reject the rest: one undoable batch."""
        if not bursts:
            self.message.emit("No burst in the selection")
            return
        from artimuse_desktop.culling.bursts import keep_best_reject_rest

        frames, catalog, chosen = sum(b.count for b in bursts), self.catalog, list(bursts)
        text = (
            f"Kept the best frame of {len(chosen):,} burst(s), rejected {frames - len(chosen):,} frames "
            "(Ctrl+Z undoes it)"
        )
        self.run(
            lambda: keep_best_reject_rest(catalog, chosen),
            lambda _change: self.message.emit(text),
            failure="Could not apply the burst decisions",
        )

    def undo(self) -> None:
        catalog = self.catalog
        self.run(
            lambda: decisions.undo(catalog),
            lambda change: self._undone("Undo", change),
            failure="Could not undo",
            nothing="Nothing to undo",
        )

    def redo(self) -> None:
        catalog = self.catalog
        self.run(
            lambda: decisions.redo(catalog),
            lambda change: self._undone("Redo", change),
            failure="Could not redo",
            nothing="Nothing to redo",
        )

    def _undone(self, verb: str, change: DecisionChange) -> None:
        text = f"{verb}: {_field_word(change.field)} of {photos_text(len(change.photo_ids))}"
        if change.skipped:
            # Somebody else (another editor on a shared catalog) changed these since: their decision stands.
            text += f"; {photos_text(len(change.skipped))} left as another editor set them since"
        self.message.emit(text)

    def run(
        self,
        write: Callable[[], DecisionChange | None],
        done: Callable[[DecisionChange], None],
        *,
        failure: str,
        nothing: str | None = None,
    ) -> None:
        """Queue ``write`` behind earlier writes; on the GUI thread afterwards report what changed."""

        def written(change: DecisionChange | None) -> None:
            if change is None:
                if nothing:
                    self.message.emit(nothing)
                return
            # A rating can change which frame a burst keeps and which a collapsed stack shows.
            rated = change.field == "rating"
            self.changed.emit(Changes(photo_ids=frozenset(change.photo_ids), decisions=True, ratings=rated))
            done(change)

        self.tasks.submit(WRITES, write, written, lambda text: self.error.emit(f"{failure}: {text}"), policy=IN_ORDER)

    def busy(self) -> bool:
        """A queued write has not been applied yet."""
        return self.tasks.pending(WRITES)


def photos_text(count: int) -> str:
    """ "1 photo", "2,400 photos"."""
    return f"{count:,} photo" + ("" if count == 1 else "s")


def _field_word(field: str) -> str:
    return {"flag": "flag", "rating": "rating", "color_label": "colour label"}.get(field, field)


def describe(change: DecisionChange, field: str, value: int | str | None) -> str:
    """A short status-bar sentence for a decision."""
    count = photos_text(len(change.photo_ids))
    if field == "flag" and isinstance(value, int):
        try:
            return f"{Flag(value).past} {count}"
        except ValueError:
            return f"Flagged {count}"
    if field == "rating":
        return f"Rated {count} {value} star" + ("" if value == 1 else "s")
    if value is None:
        return f"Colour label removed from {count}"
    return f"Colour label {value} toggled on {count}"
