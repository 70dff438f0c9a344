"""The real-shape bench's float32 reference where a float32 copy does not fit (``bench/float32_blocks.py``):
float32 arithmetic over a bf16 model's weights, one block widened at a time, computes what a float32 model
with the same (bf16-rounded) weights does, and leaves the bf16 weights as they were."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.artimuse.conftest import MODEL_NAME

pytestmark = pytest.mark.model


def _loaded(dtype: str) -> Any:
    from artimuse_desktop.scoring.registry import create_backend

    backend: Any = create_backend(f"artimuse:{MODEL_NAME}")
    backend.load("cpu", dtype=dtype)
    return backend


def test_float32_in_blocks_equals_float32_over_the_same_weights(
    use_tiny_store: Path, pixel_values: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from artimuse_desktop.scoring.artimuse import scorer
    from bench import float32_blocks

    reference = _loaded("float32")
    with torch.no_grad():
        for p in reference.loaded.model.parameters():
            p.copy_(p.to(torch.bfloat16))  # the weights a bf16 load holds, in float32
    expected = [s.score for s in scorer.score_images(reference.loaded, pixel_values)]
    reference.unload()

    backend = _loaded("bfloat16")
    model = backend.loaded.model
    language = model.model.language_model
    per_layer = max(sum(p.numel() for p in layer.parameters()) for layer in language.layers)
    tables = max(language.embed_tokens.weight.numel(), model.lm_head.weight.numel())
    monkeypatch.setattr(float32_blocks, "BLOCK_LIMIT", max(per_layer, tables))  # each layer a block, as at 8B
    inner = model.model
    handles = float32_blocks.run_in_float32_blocks(model, (inner.vision_tower, inner.multi_modal_projector))
    backend.loaded.dtype = torch.float32
    try:
        assert len(handles) >= 2 * len(inner.language_model.layers)  # each layer widened on its own
        scores = [s.score for s in scorer.score_images(backend.loaded, pixel_values)]
        widened = {p.dtype for p in inner.language_model.parameters()}
    finally:
        backend.unload()
    np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-4)
    assert widened == {torch.bfloat16}  # given back after each call
