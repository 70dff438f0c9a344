"""The window's settings: geometry restored and saved, the theme, the Settings dialog and what applying new
settings changes (reported as ``Changes`` like every other operation)."""

from __future__ import annotations

import base64
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QApplication

from artimuse_desktop import settings as settings_module
from artimuse_desktop.gui.changes import Changes
from artimuse_desktop.gui.theme import apply_theme
from artimuse_desktop.settings import Settings

log = logging.getLogger(__name__)


def restore_geometry(window: Any) -> None:
    window.resize(1440, 900)
    if window.settings.window_geometry:
        with contextlib.suppress(ValueError, TypeError):
            window.restoreGeometry(QByteArray(base64.b64decode(window.settings.window_geometry)))


def save_settings(window: Any) -> None:
    window.settings.window_geometry = base64.b64encode(bytes(window.saveGeometry().data())).decode("ascii")
    window.settings.thumbnail_size = window.grid.thumb_size
    try:
        settings_module.save(window.settings, window.settings_path)
    except OSError as exc:
        log.warning("cannot save settings: %s", exc)


def remember_folders(window: Any, paths: Sequence[str]) -> list[str]:
    """The folders of ``paths`` (a photo stands for its folder), added to the library's folders and saved."""
    folders: list[str] = []
    for path in paths:
        target = Path(path).expanduser().absolute()
        if not target.exists():
            window.show_error(f"{target} does not exist", subject=str(target))
            continue
        folder = str(target if target.is_dir() else target.parent)
        if folder not in folders:
            folders.append(folder)
    added = [f for f in folders if f not in window.settings.library_folders]
    if added:
        window.settings.library_folders.extend(added)
        save_settings(window)
    return folders


def set_theme(window: Any, name: str) -> None:
    window.settings.theme = name
    app = QApplication.instance()
    if isinstance(app, QApplication):
        apply_theme(app, name)


def open_settings_dialog(window: Any) -> Settings | None:
    from artimuse_desktop.gui.settings_dialog import ModelChoice, SettingsDialog

    models = [ModelChoice(i.name, i.description, i.available, i.reason) for i in window.critiques.backend_infos]
    if not models:
        models = [ModelChoice("technical", "Built-in technical analyzer", True, "built in")]
    dialog = SettingsDialog(window.settings, models, window)
    return dialog.result_settings() if dialog.exec() == SettingsDialog.DialogCode.Accepted else None


def apply_settings(window: Any, new: Settings) -> None:
    old, window.settings = window.settings, new
    if new.theme != old.theme:
        set_theme(window, new.theme)
    if new.collapse_bursts != old.collapse_bursts:
        window.collapse_action.setChecked(new.collapse_bursts)
    bursts_changed = (new.burst_seconds, new.burst_distance) != (old.burst_seconds, old.burst_distance)
    window.apply_changes(Changes(view=new.collapse_bursts != old.collapse_bursts, bursts=bursts_changed))
    if new.cache_max_bytes != old.cache_max_bytes:
        window.loader.set_cache_max_bytes(new.cache_max_bytes)
        window.tasks.submit("prune-cache", lambda: _prune_thumbnail_cache(new.cache_max_bytes), lambda _: None)
    added = [f for f in new.library_folders if f not in old.library_folders]
    save_settings(window)
    if added:
        window.start_indexing(added)


def _prune_thumbnail_cache(max_bytes: int) -> object:
    """Off the GUI thread: shrink the thumbnail cache to a smaller budget right away."""
    from artimuse_desktop.imaging.thumbnails import ThumbnailCache

    return ThumbnailCache(max_bytes=max_bytes).prune()
