"""Fixtures for the imaging tests: a thumbnail cache in tmp_path (user folders are isolated by tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from artimuse_desktop.imaging.thumbnails import ThumbnailCache


@pytest.fixture
def cache(tmp_path: Path) -> ThumbnailCache:
    return ThumbnailCache(tmp_path / "thumbs")
