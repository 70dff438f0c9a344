"""Fixtures for the library tests: an isolated home, a real catalog file and a thumbnail cache in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.imaging.thumbnails import ThumbnailCache


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the real user folders (thumbnails default to the cache dir)."""
    monkeypatch.setenv("ARTIMUSE_HOME", str(tmp_path / "home"))
    for name in ("ARTIMUSE_CATALOG", "ARTIMUSE_DATA_DIR", "ARTIMUSE_CACHE_DIR", "ARTIMUSE_MAX_PIXELS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    with Catalog(tmp_path / "catalog.sqlite") as opened:
        yield opened


@pytest.fixture
def cache(tmp_path: Path) -> ThumbnailCache:
    return ThumbnailCache(tmp_path / "thumbs")


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    root.mkdir()
    return root
