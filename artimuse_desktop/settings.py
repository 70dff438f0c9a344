"""User settings of the desktop app, kept as JSON at ``paths.settings_path()``.

A plain dataclass with no Qt so the command line can read the same choices (default model, device, batch size,
critique length). Loading never fails: a missing, unreadable or partly invalid file gives the defaults for
what is wrong, so a hand-edited typo can not keep the app from starting. Saving is atomic (temporary file,
then rename).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

THEMES = ("dark", "light")
DEVICES = ("auto", "cpu", "cuda", "mps")
SCHEMA_VERSION = 1
CRITIQUE_TOKENS_DEFAULT = 1024
CRITIQUE_TOKENS_LIMIT = 8192  # the longest critique the ArtiMuse authors allow


@dataclass
class Settings:
    """Everything the settings dialog edits; field defaults are the first-run values."""

    library_folders: list[str] = field(default_factory=list)
    default_model: str = "technical"
    device: str = "auto"
    batch_size: int = 8
    cache_size_mb: int = 2048
    theme: str = "dark"
    auto_advance: bool = False  # Lightroom's Caps Lock: move to the next photo after a flag or rating
    thumbnail_size: int = 180
    collapse_bursts: bool = False
    score_after_indexing: bool = True  # new photos get the default model's score without a second step
    critique_max_new_tokens: int = CRITIQUE_TOKENS_DEFAULT  # most tokens per ArtiMuse critique
    burst_seconds: float = 2.0
    burst_distance: int = 10
    side_panel_visible: bool = True
    window_geometry: str | None = None  # base64 of QMainWindow.saveGeometry(); opaque here

    def validated(self) -> Settings:
        """A copy with every out-of-range value replaced by its default (so bad JSON cannot break the app)."""
        default = Settings()
        clean = Settings(**asdict(self))
        if not isinstance(clean.library_folders, list) or not all(isinstance(f, str) for f in clean.library_folders):
            clean.library_folders = []
        if not isinstance(clean.default_model, str) or not clean.default_model:
            clean.default_model = default.default_model
        if clean.device not in DEVICES:
            clean.device = default.device
        clean.batch_size = _int_in(clean.batch_size, 1, 256, default.batch_size)
        clean.cache_size_mb = _int_in(clean.cache_size_mb, 64, 1_000_000, default.cache_size_mb)
        if clean.theme not in THEMES:
            clean.theme = default.theme
        clean.critique_max_new_tokens = _int_in(
            clean.critique_max_new_tokens, 1, CRITIQUE_TOKENS_LIMIT, default.critique_max_new_tokens
        )
        clean.thumbnail_size = _int_in(clean.thumbnail_size, 64, 480, default.thumbnail_size)
        clean.burst_distance = _int_in(clean.burst_distance, 0, 64, default.burst_distance)
        try:
            clean.burst_seconds = float(clean.burst_seconds)
        except (TypeError, ValueError):
            clean.burst_seconds = default.burst_seconds
        if not 0 <= clean.burst_seconds <= 60:
            clean.burst_seconds = default.burst_seconds
        for name in ("auto_advance", "collapse_bursts", "side_panel_visible", "score_after_indexing"):
            if not isinstance(getattr(clean, name), bool):
                setattr(clean, name, getattr(default, name))
        if clean.window_geometry is not None and not isinstance(clean.window_geometry, str):
            clean.window_geometry = None
        return clean

    @property
    def cache_max_bytes(self) -> int:
        return self.cache_size_mb * 1024 * 1024


def _int_in(value: Any, low: int, high: int, fallback: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return fallback
    number = int(value)
    return number if low <= number <= high else fallback


def _default_path() -> Path:
    from artimuse_desktop import paths

    return paths.settings_path()


def load(path: str | Path | None = None) -> Settings:
    """The saved settings, or the defaults for anything missing or invalid."""
    target = Path(path) if path is not None else _default_path()
    try:
        raw = json.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable settings %s: %s", target, exc)
        return Settings()
    if not isinstance(raw, dict):
        log.warning("ignoring settings %s: not a JSON object", target)
        return Settings()
    known = {f.name for f in fields(Settings)}
    values = {key: value for key, value in raw.items() if key in known}
    try:
        return Settings(**values).validated()
    except TypeError as exc:  # pragma: no cover - every field has a default
        log.warning("ignoring settings %s: %s", target, exc)
        return Settings()


def save(settings: Settings, path: str | Path | None = None) -> Path:
    """Write atomically: a crash while saving leaves the previous file intact."""
    target = Path(path) if path is not None else _default_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    data = {"version": SCHEMA_VERSION, **asdict(settings.validated())}
    handle, temp_name = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2, sort_keys=True)
            stream.write("\n")
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target
