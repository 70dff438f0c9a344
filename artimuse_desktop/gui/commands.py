"""Every command of the window in one table: id, text, keys, menu, context, what it runs, when it is enabled.

Menus, toolbar actions, shortcuts, the culling key handler, Help ▸ Keyboard shortcuts and the README's key table
are all built from ``COMMANDS`` (napari's action manager does the same), so a key is declared once.

Two contexts:

* ``WINDOW`` keys are real ``QAction`` shortcuts: they work wherever the focus is (Ctrl+O, F5, Ctrl+I …).
* ``CULLING`` keys (P, X, 0–9, G, E, Ctrl+Z …) reach the photos only: the grid, loupe and compare views offer each
  key press to ``KeyDispatcher`` before their own handling, and never while a text field is being edited (typing
  "p" in the search box searches for "p"). In menus their keys show as hints.

``run(window, advance)`` gets ``advance=True`` when a decision key was pressed with Shift (apply, then move on, as
Lightroom does with Caps Lock).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QKeySequence

from artimuse_desktop.gui import help_dialogs
from artimuse_desktop.vocabulary import LABELS, Flag

WINDOW = "window"
CULLING = "culling"

Run = Callable[[Any, bool], object]


@dataclass(frozen=True)
class Command:
    id: str
    text: str
    run: Run
    menu: str = ""  # "Photo/Rating": a sub-menu; "" for a command with keys only
    keys: tuple[str, ...] = ()  # QKeySequence text ("Ctrl+R"), or "std:Open" for a QKeySequence.StandardKey
    context: str = WINDOW
    enabled: Callable[[Any], bool] | None = None
    checkable: bool = False
    short: str | None = None  # the toolbar's shorter label
    tip: str | None = None

    def key_sequences(self) -> list[QKeySequence]:
        sequences: list[QKeySequence] = []
        for key in self.keys:
            if key.startswith("std:"):
                sequences.extend(QKeySequence.keyBindings(getattr(QKeySequence.StandardKey, key[4:])))
            else:
                sequences.append(QKeySequence(key))
        return sequences

    def key_text(self) -> str:
        """The keys as people read them: "Ctrl+Shift+Z", "Ctrl+O"."""
        texts = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in self.key_sequences()]
        return " / ".join(dict.fromkeys(t for t in texts if t))


def _decide(field: str, value: object) -> Run:
    def run(window: Any, advance: bool) -> None:
        getattr(window.culling, f"set_{field}")(value, advance=advance)

    return run


def _commands() -> tuple[Command, ...]:
    view = "View"
    flags = [
        Command(f"photo.{cid}", flag.menu_text, _decide("flag", flag), "Photo", (key,), CULLING)
        for flag, cid, key in ((Flag.PICK, "pick", "P"), (Flag.REJECT, "reject", "X"), (Flag.NONE, "unflag", "U"))
    ]
    stars = [
        Command(
            f"photo.rating.{n}", "★" * n if n else "No stars", _decide("rating", n), "Photo/Rating", (str(n),), CULLING
        )
        for n in range(6)
    ]
    labels = [
        Command(
            f"photo.label.{label.name}",
            label.name.capitalize(),
            _decide("label", label.name),
            "Photo/Colour label",
            (label.key,) if label.key else (),
            CULLING,
        )
        for label in LABELS
    ]
    return (
        Command(
            "file.add_folder",
            "Add folder…",
            lambda w, _: w.folders.add_folder(),
            "File",
            ("std:Open",),
            short="Add folder",
        ),
        Command("file.rescan", "Rescan library", lambda w, _: w.folders.rescan(), "File", ("F5",)),
        Command(
            "file.export",
            "Export…",
            lambda w, _: w.file_actions.open_export("picks"),
            "File",
            ("Ctrl+Shift+E",),
            tip="Copy or link picks, the selection, the top photos or the current filter into a folder (Ctrl+Shift+E)",
        ),
        Command(
            "file.trash_rejects",
            "Move rejects to trash…",
            lambda w, _: w.file_actions.trash_rejects(),
            "File",
            tip="Send every rejected photo (and its own sidecars) to the system trash, after you confirm the count",
        ),
        Command("file.settings", "Settings…", lambda w, _: w.open_settings(), "File", ("Ctrl+,",)),
        Command("file.quit", "Quit", lambda w, _: w.close(), "File", ("std:Quit",)),
        Command("edit.undo", "Undo decision", lambda w, _: w.culling.undo(), "Edit", ("Ctrl+Z",), CULLING),
        Command("edit.redo", "Redo decision", lambda w, _: w.culling.redo(), "Edit", ("Ctrl+Shift+Z",), CULLING),
        Command("edit.select_all", "Select all", lambda w, _: w.grid.selectAll(), "Edit", ("Ctrl+A",), CULLING),
        Command("edit.select_none", "Select none", lambda w, _: w.grid.clearSelection(), "Edit", ("Ctrl+D",)),
        Command("edit.find", "Find", lambda w, _: w.focus_search(), "Edit", ("std:Find",)),
        *flags,
        *stars,
        *labels,
        Command("photo.label.none", "None", _decide("label", None), "Photo/Colour label", (), CULLING),
        Command(
            "photo.keep_best",
            "Keep best of bursts, reject the rest",
            lambda w, _: w.keep_best_of_bursts(),
            "Photo",
            enabled=lambda w: w.has_bursts(),
            short="Keep best",
            tip="For the bursts in the selection (or all shown): pick the best frame, reject the rest (Ctrl+Z undoes)",
        ),
        Command(
            "photo.critique",
            "Write critique",
            lambda w, _: w.write_critique(w.current_id()),
            "Photo",
            enabled=lambda w: w.can_critique(),
        ),
        Command("photo.write_xmp", "Write metadata (XMP)", lambda w, _: w.file_actions.write_metadata(), "Photo"),
        Command("photo.read_xmp", "Read metadata (XMP)", lambda w, _: w.file_actions.read_metadata(), "Photo"),
        Command("photo.export_selection", "Export selection…", lambda w, _: w.file_actions.open_export("selection")),
        Command("photo.reveal", "Reveal in file manager", lambda w, _: w.file_actions.reveal(), "Photo"),
        Command("photo.copy_path", "Copy path", lambda w, _: w.file_actions.copy_path(), "Photo"),
        Command("view.grid", "Grid", lambda w, _: w.request_view("grid"), view, ("G", "Esc"), CULLING, short="Grid"),
        Command("view.loupe", "Loupe", lambda w, _: w.request_view("loupe"), view, ("E",), CULLING, short="Loupe"),
        Command("view.toggle", "Loupe or grid", lambda w, _: w.request_view("toggle"), "", ("Space",), CULLING),
        Command(
            "view.compare", "Compare", lambda w, _: w.request_view("compare"), view, ("C",), CULLING, short="Compare"
        ),
        Command("view.zoom", "Zoom 100 %", lambda w, _: w.request_view("zoom"), view, ("Z",), CULLING),
        Command("view.larger", "Larger thumbnails", lambda w, _: w.grid.zoom_by(1), view, ("Ctrl++", "Ctrl+=")),
        Command("view.smaller", "Smaller thumbnails", lambda w, _: w.grid.zoom_by(-1), view, ("Ctrl+-",)),
        Command(
            "view.collapse",
            "Collapse bursts to their best frame",
            lambda w, _: w.toggle_collapse(),
            view,
            checkable=True,
            short="Collapse bursts",
            tip="Show only the best frame of each burst",
        ),
        Command("view.side_panel", "Side panel", lambda w, _: w.toggle_side_panel(), view, ("Ctrl+I",), checkable=True),
        Command("view.reset_filters", "Reset filters", lambda w, _: w.filter_bar.reset(), view, ("Ctrl+Shift+L",)),
        Command(
            "score.new",
            "Score new photos",
            lambda w, _: w.start_scoring(),
            "Score",
            ("Ctrl+R",),
            short="Score",
            tip="Score photos that have no score from the default model yet (Ctrl+R)",
        ),
        Command(
            "score.rescore_selected",
            "Rescore selected photos",
            lambda w, _: w.start_scoring(rescore=True, ids=w.target_ids()),
            "Score",
        ),
        Command(
            "help.keys",
            "Keyboard shortcuts",
            lambda w, _: help_dialogs.show_keys(w, help_rows()),
            "Help",
            ("std:HelpContents",),
        ),
        Command(
            "help.score",
            "What the score means",
            lambda w, _: w.score_help.show(),
            "Help",
            tip="Which model gave the shown score, its version and scale, and what an absent score means",
        ),
        Command("help.log", "Open log folder", lambda w, _: help_dialogs.open_log_folder(), "Help"),
        Command(
            "help.about", "About ArtiMuse Desktop", lambda w, _: help_dialogs.show_about(w, w.catalog.location), "Help"
        ),
    )


COMMANDS: tuple[Command, ...] = _commands()
BY_ID: dict[str, Command] = {command.id: command for command in COMMANDS}
MENUS: tuple[str, ...] = ("File", "Edit", "Photo", "View", "Score", "Help")
#: Where a separator goes in a menu: before these commands.
SEPARATOR_BEFORE: frozenset[str] = frozenset(
    {
        "file.export",
        "file.settings",
        "file.quit",
        "edit.select_all",
        "photo.keep_best",
        "photo.critique",
        "photo.write_xmp",
        "photo.reveal",
        "view.larger",
        "view.reset_filters",
    }
)
TOOLBAR: tuple[str, ...] = ("file.add_folder", "|", "view.grid", "view.loupe", "view.compare", "|", "score.new")
TOOLBAR_AFTER_MODEL: tuple[str, ...] = ("view.collapse", "photo.keep_best")


@dataclass(frozen=True)
class HelpRow:
    """One row of Help ▸ Keyboard shortcuts and of the README's key table."""

    keys: str
    action: str


#: Rows of the key help: (action, the commands whose keys it lists) or (action, a key text for native keys).
_HELP: tuple[tuple[str, tuple[str, ...] | str], ...] = (
    ("Pick / reject / unflag", ("photo.pick", "photo.reject", "photo.unflag")),
    ("Star rating", ("photo.rating.0", "photo.rating.5")),
    ("Red / yellow / green / blue label (again to remove)", tuple(f"photo.label.{lb.name}" for lb in LABELS if lb.key)),
    ("Apply and move to the next photo", "Shift + key"),
    ("Move", "← → ↑ ↓"),
    ("Undo / redo", ("edit.undo", "edit.redo")),
    ("Grid", ("view.grid",)),
    ("Loupe", ("view.loupe", "view.toggle")),
    ("100 % zoom (at the clicked point)", ("view.zoom",)),
    ("Compare the selected photos (2–4)", ("view.compare",)),
    ("Thumbnail size", ("view.larger", "view.smaller")),
    ("Export picks, the selection or the best photos", ("file.export",)),
)


def help_rows() -> list[HelpRow]:
    rows: list[HelpRow] = []
    for action, source in _HELP:
        if isinstance(source, str):
            rows.append(HelpRow(source, action))
            continue
        if source == ("photo.rating.0", "photo.rating.5"):
            rows.append(HelpRow(f"{BY_ID[source[0]].key_text()}–{BY_ID[source[1]].key_text()}", action))
            continue
        if len(source) == 1:
            rows.append(HelpRow(BY_ID[source[0]].key_text(), action))
            continue
        first_keys = [BY_ID[cid].key_text().split(" / ")[0] for cid in source]
        rows.append(HelpRow(" / ".join(first_keys), action))
    return rows


def readme_key_table() -> str:
    """The README's key table, made from the same rows as the Help dialog (a test keeps them equal)."""
    lines = ["| key | does |", "| --- | --- |"]
    lines += [
        f"| {row.keys} | {row.action.lower() if row.action[0].isupper() else row.action} |" for row in help_rows()
    ]
    return "\n".join(lines)


# Shift+digit arrives as the shifted symbol (US layout): map those back to their digit.
_SHIFTED_DIGITS: dict[Qt.Key, Qt.Key] = {
    Qt.Key.Key_ParenRight: Qt.Key.Key_0,
    Qt.Key.Key_Exclam: Qt.Key.Key_1,
    Qt.Key.Key_At: Qt.Key.Key_2,
    Qt.Key.Key_NumberSign: Qt.Key.Key_3,
    Qt.Key.Key_Dollar: Qt.Key.Key_4,
    Qt.Key.Key_Percent: Qt.Key.Key_5,
    Qt.Key.Key_AsciiCircum: Qt.Key.Key_6,
    Qt.Key.Key_Ampersand: Qt.Key.Key_7,
    Qt.Key.Key_Asterisk: Qt.Key.Key_8,
    Qt.Key.Key_ParenLeft: Qt.Key.Key_9,
}
_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.ShiftModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)
_SHIFT_ADVANCES = ("photo.",)  # decision commands: Shift applies them and moves on


def _combo(sequence: QKeySequence) -> tuple[int, int]:
    combination = cast(Any, sequence)[0]  # QKeySequence is indexable; the stubs do not say so
    return int(combination.key().value), int(combination.keyboardModifiers().value)


class KeyDispatcher:
    """The culling key handler: a key press → the ``CULLING`` command bound to it, run on ``host``."""

    def __init__(self, host: Any, commands: Iterable[Command] = COMMANDS) -> None:
        self.host = host
        self._keys: dict[tuple[int, int], Command] = {}
        for command in commands:
            if command.context != CULLING:
                continue
            for sequence in command.key_sequences():
                self._keys.setdefault(_combo(sequence), command)

    def command_for(self, event: QKeyEvent) -> tuple[Command, bool] | None:
        """The command a key press means, and whether Shift asks to move on afterwards."""
        modifiers = event.modifiers() & _MODIFIERS
        key = _SHIFTED_DIGITS.get(Qt.Key(event.key()), Qt.Key(event.key()))
        found = self._keys.get((int(key.value), int(modifiers.value)))
        if found is not None:
            return found, False
        if modifiers == Qt.KeyboardModifier.ShiftModifier:
            plain = self._keys.get((int(key.value), 0))
            if plain is not None and plain.id.startswith(_SHIFT_ADVANCES):
                return plain, True
        return None

    def handle(self, event: QKeyEvent) -> bool:
        """True when the key was a culling key (and has been acted on)."""
        found = self.command_for(event)
        if found is None:
            return False
        command, advance = found
        if command.enabled is not None and not command.enabled(self.host):
            return True
        command.run(self.host, advance)
        return True


def key_conflicts(commands: Iterable[Command] = COMMANDS) -> list[str]:
    """Keys bound twice: within a context, or a window shortcut that would shadow a culling key."""
    seen: dict[tuple[str, tuple[int, int]], str] = {}
    window_keys: dict[tuple[int, int], str] = {}
    problems: list[str] = []
    commands = list(commands)
    for command in commands:
        for sequence in command.key_sequences():
            combo = _combo(sequence)
            other = seen.setdefault((command.context, combo), command.id)
            if other != command.id:
                problems.append(f"{sequence.toString()}: {other} and {command.id}")
            if command.context == WINDOW:
                window_keys[combo] = command.id
    for command in commands:
        if command.context == CULLING:
            for sequence in command.key_sequences():
                if (shadow := window_keys.get(_combo(sequence))) is not None:
                    problems.append(f"{sequence.toString()}: {shadow} (window) shadows {command.id}")
    return problems
