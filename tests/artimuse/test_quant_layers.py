"""The quantised layers (``quant_layers``): int8 packed in row parts gives the numbers of one matrix, and the
4-bit kernel computes with exactly its dequantised weights, and int8 gives the same numbers on every x86 CPU."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fresh_interpreter import ROOT

pytestmark = pytest.mark.model


def test_int8_in_parts_equals_one_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    """lm_head is packed in row parts (bounded memory while loading): the numbers of one matrix (the integer
    products are exact; oneDNN may scale them back to float in another order for another width)."""
    import torch

    from artimuse_desktop.scoring.artimuse import quant_layers

    torch.manual_seed(0)
    weight, bias, x = torch.randn(100, 64), torch.randn(100), torch.randn(3, 5, 64)
    whole = quant_layers.build("int8", "w", weight, bias)
    monkeypatch.setattr(quant_layers, "ROW_BLOCK", 16)
    parts = quant_layers.build("int8", "w", weight, bias)
    assert len(parts._parts) == 7 and len(whole._parts) == 1
    torch.testing.assert_close(parts(x), whole(x), rtol=1e-5, atol=1e-5)
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


_INT8_PROBE = """
import sys, torch
from artimuse_desktop.scoring.artimuse import quant_layers
torch.manual_seed(0)
weight, bias, x = torch.randn(256, 512) * 0.05, torch.randn(256), torch.randn(2, 40, 512)
x[..., :4] *= 20  # a few large channels, as real activations have: where 8-bit products would saturate
layer = quant_layers.build("int8", "w", weight, bias)
torch.save({"engine": quant_layers.engine(), "y": layer(x)}, sys.argv[1])
"""


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="x86 instruction sets")
def test_int8_gives_the_same_numbers_on_every_x86_cpu(tmp_path: Path) -> None:
    """oneDNN limited to AVX2 and to AVX512-VNNI computes what this CPU does (AMX where it has it): an 8-bit
    score does not depend on which x86 CPU computed it."""
    import torch

    outputs = {}
    for isa in ("", "AVX2", "AVX512_CORE_VNNI"):
        out = tmp_path / f"y-{isa or 'native'}.pt"
        env = {**os.environ, "PYTHONPATH": str(ROOT)} | ({"ONEDNN_MAX_CPU_ISA": isa} if isa else {})
        subprocess.run([sys.executable, "-c", _INT8_PROBE, str(out)], env=env, cwd=ROOT, check=True, timeout=120)
        outputs[isa] = torch.load(out)
    assert {o["engine"] for o in outputs.values()} == {"onednn"}
    native = outputs[""]["y"]
    for isa in ("AVX2", "AVX512_CORE_VNNI"):
        torch.testing.assert_close(outputs[isa]["y"], native, rtol=1e-5, atol=1e-5 * float(native.abs().max()))


def test_an_input_is_quantised_once_for_the_layers_that_share_it() -> None:
    """q, k and v take one tensor: it is prepared once, and an equal but different tensor is prepared anew."""
    import torch

    from artimuse_desktop.scoring.artimuse import int8_kernels, quant_layers

    torch.manual_seed(0)
    q_proj, k_proj = (quant_layers.build("int8", name, torch.randn(48, 64), None) for name in ("q", "k"))
    x = torch.randn(2, 7, 64)
    first = int8_kernels.prepare(x, 64)
    assert int8_kernels.prepare(x, 64) is first
    assert len(first) == (1 if int8_kernels.kernel() == "onednn" else 2)  # all rows at once, or per sample
    assert int8_kernels.prepare(x.clone(), 64) is not first
    torch.testing.assert_close(q_proj(x), torch.stack([q_proj(x[0:1])[0], q_proj(x[1:2])[0]]))
    before = k_proj(x)
    torch.testing.assert_close(k_proj(x.clone()), before, rtol=0, atol=0)


def test_rows_are_quantised_each_alone_in_one_product() -> None:
    """A call's rows (tokens; in a decoding step one per critique) are one product over the weights, each row
    with its own activation scale: a row's numbers do not depend on the rows beside it."""
    import torch

    from artimuse_desktop.scoring.artimuse import int8_kernels, quant_layers

    if int8_kernels.kernel() != "onednn":
        pytest.skip("rows are quantised apart with the oneDNN kernel (x86)")
    torch.manual_seed(0)
    weight, bias = torch.randn(96, 64) * 0.05, torch.randn(96)
    layer = quant_layers.build("int8", "w", weight, bias)
    x = torch.randn(8, 1, 64) * torch.logspace(-2, 2, 8)[:, None, None]  # rows of very different ranges
    prepared = int8_kernels.prepare(x, 64)
    assert len(prepared) == 1 and isinstance(prepared[0], int8_kernels.Rows)
    together = layer(x)
    alone = torch.cat([layer(x[i : i + 1].clone()) for i in range(8)])
    exact = torch.nn.functional.linear(x, weight, bias)
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-6 * float(exact.abs().max()))  # float rounding
    for row in range(8):  # each row within its own quantisation step, however small its range
        error = (together[row] - exact[row]).abs().max()
        assert error < 0.02 * (exact[row] - bias).abs().max() + 1e-4


def test_int4_packed_in_row_blocks_equals_one_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    """4-bit packing goes ``INT4_ROWS`` rows at a time (bounded memory while loading): the same packed bytes,
    scales and zeros as one matrix, a last partial block of the kernel's 64 rows included."""
    import torch

    from artimuse_desktop.scoring.artimuse import quant_layers

    torch.manual_seed(0)
    weight = torch.randn(208, 256) * 0.05  # 3 blocks of 64 rows and 16 more
    whole = quant_layers.int4_pack(weight, 64)
    monkeypatch.setattr(quant_layers, "INT4_ROWS", 64)
    blocks = quant_layers.int4_pack(weight, 64)
    assert torch.equal(blocks[0], whole[0]) and torch.equal(blocks[1], whole[1])
