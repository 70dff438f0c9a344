"""The cache of CPU-quantised layers (``quant_cache``): written at the first quantised load, read at the next
with exactly the same numbers, rebuilt with a log line when truncated or written for something else, never
left half-written, and skipped (the model still loads) when the disk is short."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.artimuse.conftest import MODEL_NAME

pytestmark = pytest.mark.model


@pytest.fixture
def own_store(tiny_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the session's store, so the caches written here do not reach the other tests."""
    from artimuse_desktop.scoring.artimuse import quant_cache

    root = tmp_path / "store"
    shutil.copytree(tiny_store, root)
    shutil.rmtree(root / MODEL_NAME / quant_cache.FOLDER, ignore_errors=True)  # other tests' quantised loads
    monkeypatch.setenv("ARTIMUSE_MODELS_DIR", str(root))
    return root


def _load_and_score(mode: str, pixels: np.ndarray) -> np.ndarray:
    from artimuse_desktop.scoring.artimuse import model, scorer, store

    loaded = model.load_model(store.get_model(MODEL_NAME), "cpu", quantize=mode)
    try:
        return np.stack([s.logits for s in scorer.score_images(loaded, pixels)])
    finally:
        model.release(loaded)


def _caches(root: Path) -> list[Path]:
    return sorted((root / MODEL_NAME / ".quantized").glob("*"))


@pytest.mark.parametrize("mode", ["8bit", "4bit"])
def test_the_second_load_reads_the_cache_and_scores_the_same(
    mode: str, own_store: Path, pixel_values: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="artimuse_desktop.scoring.artimuse")
    first = _load_and_score(mode, pixel_values[:2])
    files = _caches(own_store)
    assert [f.name.split("-")[0] for f in files] == [mode], files  # one complete file, no temporary left
    assert "quantised now" in caplog.text and "cached in" in caplog.text
    caplog.clear()
    second = _load_and_score(mode, pixel_values[:2])
    assert "from the cache" in caplog.text
    np.testing.assert_array_equal(first, second)
    assert _caches(own_store) == files


def test_a_truncated_cache_is_rebuilt_with_a_clear_log_line(
    own_store: Path, pixel_values: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    first = _load_and_score("8bit", pixel_values[:1])
    (cache,) = _caches(own_store)
    size = cache.stat().st_size
    with cache.open("r+b") as handle:
        handle.truncate(size - 1000)  # an interrupted copy, a full disk
    caplog.set_level(logging.INFO, logger="artimuse_desktop.scoring.artimuse")
    again = _load_and_score("8bit", pixel_values[:1])
    assert "is unusable" in caplog.text and "truncated" in caplog.text and cache.name in caplog.text
    np.testing.assert_array_equal(first, again)
    assert cache.stat().st_size == size  # written again, whole


def test_a_cache_written_for_something_else_is_refused(own_store: Path, pixel_values: np.ndarray) -> None:
    from safetensors import safe_open
    from safetensors.torch import save_file

    from artimuse_desktop.scoring.artimuse import quant_cache

    first = _load_and_score("8bit", pixel_values[:1])
    (cache,) = _caches(own_store)
    with safe_open(str(cache), framework="pt") as handle:
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
        metadata = dict(handle.metadata())
    key = quant_cache.CacheKey(
        mode="8bit", weights=metadata["weights_sha256"], torch=metadata["torch"], cpu=metadata["cpu_capability"]
    )
    assert quant_cache.CacheReader(cache, key, {n: None for n in tensors}).get(next(iter(tensors))) is not None
    save_file(tensors, str(cache), metadata={**metadata, "torch": "0.0"})
    with pytest.raises(quant_cache.CacheUnusable, match="another torch"):
        quant_cache.CacheReader(cache, key, {n: None for n in tensors})
    with pytest.raises(quant_cache.CacheUnusable, match="other tensors"):
        quant_cache.CacheReader(cache, key, {"something.else": None})
    np.testing.assert_array_equal(first, _load_and_score("8bit", pixel_values[:1]))  # rebuilt


def test_an_aborted_write_leaves_nothing(tmp_path: Path) -> None:
    import torch

    from artimuse_desktop.scoring.artimuse import quant_cache

    key = quant_cache.CacheKey(mode="8bit", weights="ab" * 32, torch="2", cpu="AVX2")
    writer = quant_cache.open_writer(tmp_path, key, ["a", "b"], nbytes=16)
    assert writer is not None
    writer.add("a", torch.ones(4, dtype=torch.int8))
    with pytest.raises(ValueError, match="incomplete"):
        writer.commit()
    writer.abort()
    assert list((tmp_path / quant_cache.FOLDER).iterdir()) == []


def test_short_disk_loads_uncached_and_says_so(
    own_store: Path, tmp_path: Path, pixel_values: np.ndarray, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.disks import small_tmpfs

    with small_tmpfs(tmp_path / "small", "16m") as disk:
        shutil.copytree(own_store, disk / "store")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("ARTIMUSE_MODELS_DIR", str(disk / "store"))
            caplog.set_level(logging.INFO, logger="artimuse_desktop.scoring.artimuse")
            scores: Any = _load_and_score("4bit", pixel_values[:1])
            assert np.isfinite(scores).all()
            assert "not caching the 4bit weights" in caplog.text and "GB free" in caplog.text
            assert _caches(disk / "store") == []
