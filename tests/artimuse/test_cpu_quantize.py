"""CPU quantisation (``cpu_quantize``): the 8-bit and 4-bit paths run on a CPU through the app's own loading,
give finite scores, carry their mode in the model version, and stay near float32; bfloat16 within 1.5 points.

The tiny fixture's weights were drawn with a large variance on purpose (score logits far from uniform), so
it magnifies every rounding: its drift is an upper bound for a trained model's, not an estimate of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from artimuse_desktop.scoring.artimuse.backend import QUANT_VERSION
from tests.artimuse.conftest import MODEL_NAME

pytestmark = pytest.mark.model

BF16_BAR = 1.5  # points, on the 0-100 score
QUANTISED_BAR = 15.0  # points: a sanity bar for the fixture's magnified drift (see the module docstring)
INT8_TOKENS_MEAN_BAR = 2.0  # points, mean of 4 photos: a scale per token (oneDNN, x86) gives 0.8-1.2, per photo 6.1


def _scores(tiny_store: Path, monkeypatch: pytest.MonkeyPatch, pixels: np.ndarray, **load: Any) -> tuple[Any, Any]:
    from artimuse_desktop.scoring.artimuse import scorer
    from artimuse_desktop.scoring.registry import create_backend

    monkeypatch.setenv("ARTIMUSE_MODELS_DIR", str(tiny_store))
    backend: Any = create_backend(f"artimuse:{MODEL_NAME}")
    backend.load("cpu", **load)
    try:
        scores = np.array([s.score for s in scorer.score_images(backend.loaded, pixels)])
        return scores, backend
    finally:
        backend.unload()


@pytest.fixture(scope="module")
def float32_scores(tiny_backend: Any, pixel_values: np.ndarray) -> np.ndarray:
    from artimuse_desktop.scoring.artimuse import scorer

    return np.array([s.score for s in scorer.score_images(tiny_backend.loaded, pixel_values)])


@pytest.mark.parametrize("mode", ["8bit", "4bit"])
def test_quantised_model_runs_on_cpu_and_is_another_version(
    mode: str,
    tiny_store: Path,
    tiny_backend: Any,
    pixel_values: np.ndarray,
    float32_scores: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scores, backend = _scores(tiny_store, monkeypatch, pixel_values, quantize=mode)
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 100)).all()
    assert backend.version.endswith(f".{mode}.q{QUANT_VERSION}") and backend.version != tiny_backend.version
    assert not np.array_equal(scores, float32_scores)  # really quantised
    assert np.abs(scores - float32_scores).max() < QUANTISED_BAR


def test_quantised_layers_are_the_integer_kernels(tiny_store: Path) -> None:
    from artimuse_desktop.scoring.artimuse import cpu_quantize, store
    from artimuse_desktop.scoring.artimuse.model import load_model

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTIMUSE_MODELS_DIR", str(tiny_store))
        loaded = load_model(store.get_model(MODEL_NAME), "cpu", quantize="4bit")
    import torch

    linear = [n for n, m in loaded.model.named_modules() if isinstance(m, torch.nn.Linear)]
    assert linear == []  # every Linear layer was replaced
    kinds = {type(m).__name__ for m in loaded.model.modules()}
    assert {"Int4Linear", "Int8Linear", "StoredEmbedding"} <= kinds
    mlp = loaded.model.model.language_model.layers[0].mlp
    assert type(mlp.gate_proj).__name__ == "Int4Linear"  # 64 wide: groups of 64
    assert type(mlp.down_proj).__name__ == "Int8Linear"  # 176 wide: no group size divides it
    assert loaded.model.get_input_embeddings().weight.dtype == torch.bfloat16  # as stored: exact
    assert loaded.compute_dtype == torch.float32
    assert cpu_quantize.plan(loaded.model, "4bit") == {}


def test_bfloat16_drift_within_the_bar(
    tiny_store: Path, pixel_values: np.ndarray, float32_scores: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    scores, _backend = _scores(tiny_store, monkeypatch, pixel_values, dtype="bfloat16")
    assert np.abs(scores - float32_scores).max() <= BF16_BAR


def test_8bit_with_a_scale_per_token_drifts_little(
    tiny_store: Path, pixel_values: np.ndarray, float32_scores: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    from artimuse_desktop.scoring.artimuse import int8_kernels

    if int8_kernels.kernel() != "onednn":
        pytest.skip("a scale per token is the oneDNN kernel's (x86)")
    scores, _backend = _scores(tiny_store, monkeypatch, pixel_values, quantize="8bit")
    assert np.abs(scores - float32_scores).mean() <= INT8_TOKENS_MEAN_BAR


def test_critique_runs_quantised(tiny_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Greedy decoding goes through the int4/int8 layers and the bf16 embedding table."""
    from artimuse_desktop.scoring.artimuse import critique, store
    from artimuse_desktop.scoring.artimuse.model import load_model
    from artimuse_desktop.scoring.artimuse.preprocess import preprocess_path
    from tests.artimuse.conftest import FIXTURE_DIR

    monkeypatch.setenv("ARTIMUSE_MODELS_DIR", str(tiny_store))
    loaded = load_model(store.get_model(MODEL_NAME), "cpu", quantize="4bit")
    pixels = preprocess_path(str(FIXTURE_DIR / "images" / "gradient_640x480.png"))
    output = critique.critique_image(loaded, pixels, ["Composition & Design"], max_new_tokens=6)
    assert 1 <= len(output.token_ids["Composition & Design"]) <= 6


def test_unknown_mode_refused() -> None:
    from artimuse_desktop.errors import ModelUnavailableError
    from artimuse_desktop.scoring.artimuse import cpu_quantize

    with pytest.raises(ModelUnavailableError, match="unknown quantization '3bit'"):
        cpu_quantize.check_supported("3bit")


def test_an_8bit_score_does_not_depend_on_the_photos_batched_with_it(
    tiny_store: Path, pixel_values: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Activations are quantised with one scale per sample: scored alone or beside others, a photo gets the
    same score (it used to share one scale with its whole batch)."""
    from artimuse_desktop.scoring.artimuse import scorer
    from artimuse_desktop.scoring.registry import create_backend

    assert len(pixel_values) >= 2
    monkeypatch.setenv("ARTIMUSE_MODELS_DIR", str(tiny_store))
    backend: Any = create_backend(f"artimuse:{MODEL_NAME}")
    backend.load("cpu", quantize="8bit")
    try:
        together = [s.score for s in scorer.score_images(backend.loaded, pixel_values)]
        alone = [
            scorer.score_images(backend.loaded, pixel_values[i : i + 1])[0].score for i in range(len(pixel_values))
        ]
    finally:
        backend.unload()
    assert together == pytest.approx(alone, abs=1e-4)
