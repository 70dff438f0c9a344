"""Where the app keeps its files: platformdirs locations with environment overrides.

Every location can be moved with an environment variable so tests, portable installs and power users never
touch the real user folders: ``ARTIMUSE_HOME`` moves all of them at once, the specific ones win over it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

APP_NAME = "ArtiMuseDesktop"
APP_AUTHOR = "ArtiMuse"


def _home_override(sub: str) -> Path | None:
    home = os.environ.get("ARTIMUSE_HOME")
    return Path(home) / sub if home else None


def _pick(env: str, sub: str, default: str) -> Path:
    value = os.environ.get(env)
    if value:
        return Path(value)
    return _home_override(sub) or Path(default)


def data_dir() -> Path:
    """Catalog and settings (persistent, backed up by the user)."""
    return _pick("ARTIMUSE_DATA_DIR", "data", platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def cache_dir() -> Path:
    """Thumbnails and previews: disposable, rebuilt on demand."""
    return _pick("ARTIMUSE_CACHE_DIR", "cache", platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR))


def log_dir() -> Path:
    return _pick("ARTIMUSE_LOG_DIR", "logs", platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def models_dir() -> Path:
    """The model store: converted checkpoints in the native safetensors layout."""
    return _pick("ARTIMUSE_MODELS_DIR", "models", str(data_dir() / "models"))


def thumbnails_dir() -> Path:
    return cache_dir() / "thumbnails"


def default_catalog_path() -> Path | str:
    """``ARTIMUSE_CATALOG`` wins (a file, or a ``postgresql+psycopg://`` URL, kept as text); otherwise
    ``catalog.sqlite`` in the data dir."""
    value = os.environ.get("ARTIMUSE_CATALOG", "").strip()
    if not value:
        return data_dir() / "catalog.sqlite"
    return value if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", value) else Path(value)


def settings_path() -> Path:
    return data_dir() / "settings.json"
