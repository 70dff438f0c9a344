"""The first-run view: an empty catalog shows one clear next step ("Add folder…") instead of an empty grid.

``pictures_folder`` is where the add-folder dialog opens: the user's Pictures folder (platformdirs, which reads
the XDG user dirs on Linux), or home where there is none.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from artimuse_desktop.formatting import count_text
from artimuse_desktop.gui.theme import set_role


def pictures_folder() -> str:
    """The user's Pictures folder when it exists, else the home folder: where photos usually are."""
    try:
        pictures = Path(platformdirs.user_pictures_dir())
        if pictures.is_dir():
            return str(pictures)
    except (OSError, RuntimeError, KeyError):  # no home, unreadable user-dirs file
        pass
    return str(Path.home())


class WelcomeView(QFrame):
    add_folder_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        hero = QLabel("Welcome to ArtiMuse Desktop")
        set_role(hero, "hero")
        hero.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text = QLabel(
            "Add a folder of photos to start. They stay where they are: the app indexes them in the "
            "background,\nshows thumbnails as they come, and scores them on this computer. Nothing leaves it."
        )
        text.setProperty("role", "muted")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setWordWrap(True)
        self.button = QPushButton("Add folder…")
        self.button.setObjectName("addFolder")
        self.button.setProperty("role", "primary")
        self.button.setMinimumWidth(180)
        self.button.setMinimumHeight(34)
        self.button.clicked.connect(self.add_folder_requested)
        keys = QLabel(
            "Culling keys: P pick · X reject · U unflag · 0–5 stars · 6–9 colour labels · "
            "E loupe · C compare · Ctrl+Z undo"
        )
        keys.setProperty("role", "muted")
        keys.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = QLabel("")
        self.status.setProperty("role", "muted")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(hero)
        layout.addSpacing(8)
        layout.addWidget(text)
        layout.addSpacing(18)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addSpacing(10)
        layout.addWidget(self.status)
        layout.addStretch(3)
        layout.addWidget(keys)
        layout.addSpacing(12)

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def set_progress(self, done: int) -> None:
        """ "Indexing… 1 photo", "Indexing… 2,400 photos"."""
        self.set_status(f"Indexing… {count_text(done, 'photo')}" if done else "Indexing…")
