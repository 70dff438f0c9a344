"""Fixtures for the library tests: a thumbnail cache and a photo folder in tmp_path (the catalog and the
isolated user folders come from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from artimuse_desktop.imaging.thumbnails import ThumbnailCache


@pytest.fixture
def cache(tmp_path: Path) -> ThumbnailCache:
    return ThumbnailCache(tmp_path / "thumbs")


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    root.mkdir()
    return root
