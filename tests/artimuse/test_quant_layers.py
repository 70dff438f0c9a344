"""The quantised layers (``quant_layers``): int8 packed in row parts gives the numbers of one matrix, and the
4-bit kernel computes with exactly its dequantised weights."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model


def test_int8_in_parts_equals_one_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    """lm_head is packed in row parts (bounded memory while loading): the same numbers as one matrix."""
    import torch

    from artimuse_desktop.scoring.artimuse import quant_layers

    torch.manual_seed(0)
    weight, bias, x = torch.randn(100, 64), torch.randn(100), torch.randn(3, 5, 64)
    whole = quant_layers.build("int8", "w", weight, bias)
    monkeypatch.setattr(quant_layers, "ROW_BLOCK", 16)
    parts = quant_layers.build("int8", "w", weight, bias)
    assert len(parts._parts) == 7 and len(whole._parts) == 1
    torch.testing.assert_close(parts(x), whole(x), rtol=0, atol=0)
    assert (whole(x) - torch.nn.functional.linear(x, weight, bias)).abs().max() < 0.1 * x.abs().max() * 8


def test_int4_matches_its_dequantised_weights() -> None:
    """The int4 kernel computes x (dequantised W)^T with W = (q - 8) * scale + zero per group of 64."""
    import torch

    from artimuse_desktop.scoring.artimuse import quant_layers

    torch.manual_seed(0)
    weight, x = torch.randn(32, 128) * 0.05, torch.randn(4, 128)
    layer = quant_layers.layer_classes()["int4"](*quant_layers.int4_pack(weight, 64), None, 128)
    assert layer.group_size == 64
    groups = weight.reshape(32, 2, 64)
    low, high = groups.amin(-1, keepdim=True), groups.amax(-1, keepdim=True)
    scale = (high - low) / 15
    dequantised = (torch.round((groups - low) / scale) * scale + low).reshape(32, 128)
    expected = x @ dequantised.bfloat16().float().t()
    assert (layer(x) - expected).abs().max() < 2e-2
    assert (layer(x) - x @ weight.t()).abs().max() < 0.2
