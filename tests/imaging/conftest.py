"""Fixtures for the imaging tests: an isolated home and a thumbnail cache in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from artimuse_desktop.imaging.thumbnails import ThumbnailCache


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the real user folders (thumbnails default to the cache dir)."""
    monkeypatch.setenv("ARTIMUSE_HOME", str(tmp_path / "home"))
    for name in ("ARTIMUSE_CATALOG", "ARTIMUSE_DATA_DIR", "ARTIMUSE_CACHE_DIR", "ARTIMUSE_MAX_PIXELS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cache(tmp_path: Path) -> ThumbnailCache:
    return ThumbnailCache(tmp_path / "thumbs")
