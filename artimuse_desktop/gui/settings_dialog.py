"""The settings dialog: library folders, default model and device, batch size, cache size, theme, keys.

It edits a copy of ``settings.Settings``; the window saves it (JSON at ``paths.settings_path()``) and applies
what changed. Models are listed with their availability so an unusable choice says why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from artimuse_desktop.settings import CRITIQUE_TOKENS_DEFAULT, CRITIQUE_TOKENS_LIMIT, DEVICES, THEMES, Settings


@dataclasses.dataclass(frozen=True)
class ModelChoice:
    name: str
    description: str
    available: bool
    reason: str


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, models: Sequence[ModelChoice], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        self._original = settings
        tabs = QTabWidget()

        # Library
        library = QWidget()
        self.folders = QListWidget()
        self.folders.addItems(settings.library_folders)
        add = QPushButton("Add folder…")
        add.clicked.connect(self._add_folder)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove_folder)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        note = QLabel("Removing a folder here stops watching it; its photos stay in the catalog.")
        note.setProperty("role", "muted")
        note.setWordWrap(True)
        library_layout = QVBoxLayout(library)
        library_layout.addWidget(self.folders)
        library_layout.addLayout(buttons)
        library_layout.addWidget(note)
        self.score_after_indexing = QCheckBox("Score new photos with the default model after indexing")
        self.score_after_indexing.setChecked(settings.score_after_indexing)
        library_layout.addWidget(self.score_after_indexing)
        tabs.addTab(library, "Library")

        # Scoring
        scoring = QWidget()
        form = QFormLayout(scoring)
        self.model = QComboBox()
        for choice in models:
            text = choice.name if choice.available else f"{choice.name} (unavailable)"
            self.model.addItem(text, choice.name)
            index = self.model.count() - 1
            self.model.setItemData(
                index,
                choice.reason if not choice.available else choice.description,
                Qt.ItemDataRole.ToolTipRole,
            )
        if self.model.findData(settings.default_model) < 0:
            self.model.addItem(settings.default_model, settings.default_model)
        self.model.setCurrentIndex(self.model.findData(settings.default_model))
        self.device = QComboBox()
        self.device.addItems(list(DEVICES))
        self.device.setCurrentText(settings.device)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 256)
        self.batch_size.setValue(settings.batch_size)
        form.addRow("Default model", self.model)
        form.addRow("Device", self.device)
        form.addRow("Batch size", self.batch_size)
        self.critique_length = QSpinBox()
        self.critique_length.setRange(1, CRITIQUE_TOKENS_LIMIT)
        self.critique_length.setSuffix(" tokens")
        self.critique_length.setValue(settings.critique_max_new_tokens)
        self.critique_length.setToolTip(
            f"The most an ArtiMuse critique may write, per attribute (default {CRITIQUE_TOKENS_DEFAULT}, "
            f"at most {CRITIQUE_TOKENS_LIMIT})"
        )
        form.addRow("Critique length", self.critique_length)
        self.burst_seconds = QDoubleSpinBox()
        self.burst_seconds.setRange(0.0, 60.0)
        self.burst_seconds.setSuffix(" s")
        self.burst_seconds.setValue(settings.burst_seconds)
        self.burst_distance = QSpinBox()
        self.burst_distance.setRange(0, 64)
        self.burst_distance.setValue(settings.burst_distance)
        form.addRow("Burst: frames at most", self.burst_seconds)
        form.addRow("Burst: hash distance at most", self.burst_distance)
        tabs.addTab(scoring, "Scoring")

        # Display
        display = QWidget()
        display_form = QFormLayout(display)
        self.theme = QComboBox()
        for theme in THEMES:
            self.theme.addItem(theme.capitalize(), theme)
        self.theme.setCurrentIndex(self.theme.findData(settings.theme))
        self.cache_size = QSpinBox()
        self.cache_size.setRange(64, 1_000_000)
        self.cache_size.setSingleStep(256)
        self.cache_size.setSuffix(" MB")
        self.cache_size.setValue(settings.cache_size_mb)
        self.collapse_bursts = QCheckBox("Show only the best frame of each burst")
        self.collapse_bursts.setChecked(settings.collapse_bursts)
        display_form.addRow("Theme", self.theme)
        display_form.addRow("Thumbnail cache", self.cache_size)
        display_form.addRow("", self.collapse_bursts)
        tabs.addTab(display, "Display")

        # Keys
        keys = QWidget()
        keys_layout = QVBoxLayout(keys)
        self.auto_advance = QCheckBox("Auto-advance: move to the next photo after a flag, rating or label")
        self.auto_advance.setChecked(settings.auto_advance)
        help_text = QLabel(
            "Lightroom turns this on with Caps Lock; Qt cannot read Caps Lock on every system, so it is a "
            "setting here. Holding Shift with P, X, U, 0–9 advances once without it."
        )
        help_text.setProperty("role", "muted")
        help_text.setWordWrap(True)
        keys_layout.addWidget(self.auto_advance)
        keys_layout.addWidget(help_text)
        keys_layout.addStretch(1)
        tabs.addTab(keys, "Keys")

        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(box)

    def _add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to the library")
        if folder and not self.folders.findItems(folder, Qt.MatchFlag.MatchExactly):
            self.folders.addItem(folder)

    def _remove_folder(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))

    def result_settings(self) -> Settings:
        """The edited settings (a new object; the original is untouched)."""
        folders = [self.folders.item(i).text() for i in range(self.folders.count())]
        return dataclasses.replace(
            self._original,
            library_folders=folders,
            default_model=str(self.model.currentData() or self._original.default_model),
            device=self.device.currentText(),
            batch_size=self.batch_size.value(),
            critique_max_new_tokens=self.critique_length.value(),
            cache_size_mb=self.cache_size.value(),
            theme=str(self.theme.currentData()),
            auto_advance=self.auto_advance.isChecked(),
            collapse_bursts=self.collapse_bursts.isChecked(),
            burst_seconds=self.burst_seconds.value(),
            burst_distance=self.burst_distance.value(),
            score_after_indexing=self.score_after_indexing.isChecked(),
        ).validated()
