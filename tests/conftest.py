"""Shared fixtures: every test runs with its own user folders, so nothing touches the real ones, and gets a real
catalog file of its own on request (rows for it: ``tests/factory.py``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ARTIMUSE_CPU_BF16", "0")  # float32 on every CPU: the reference numbers hold everywhere

if TYPE_CHECKING:
    from artimuse_desktop.catalog import Catalog

#: ``postgres_server`` and ``postgres_url``: a real PostgreSQL on 127.0.0.1 (tests/postgres.py).
pytest_plugins = ["tests.postgres"]

FIXTURES = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures"


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point data, cache, logs and the model store at a fresh folder; the default catalog lives there too."""
    home = tmp_path_factory.mktemp("artimuse-home")
    monkeypatch.setenv("ARTIMUSE_HOME", str(home))
    for name in (
        "ARTIMUSE_CATALOG",
        "ARTIMUSE_DATA_DIR",
        "ARTIMUSE_CACHE_DIR",
        "ARTIMUSE_LOG_DIR",
        "ARTIMUSE_MODELS_DIR",
        "ARTIMUSE_MAX_PIXELS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg-data"))
    return home


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    """A new, migrated catalog file in the test's folder, closed afterwards."""
    from artimuse_desktop.catalog import Catalog

    with Catalog(tmp_path / "catalog.sqlite") as opened:
        yield opened
