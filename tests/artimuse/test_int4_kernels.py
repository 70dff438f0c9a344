"""The 4-bit products (``int4_kernels``): the package's AMX kernel computes x (dequantised W)^T to float32
rounding, returns what torch's tinygemm kernel returns (sums rounded to bfloat16), is built wherever it can
run, and gives way to torch's kernel where it cannot."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

LINUX_X86 = sys.platform.startswith("linux") and platform.machine().lower() in ("x86_64", "amd64")


def _cpu_flags() -> set[str]:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def _quantised(out_features: int, in_features: int, group: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """(q, packed, scales and zeros) of a random weight, as ``quant_layers.int4_pack`` makes them."""
    import torch

    from artimuse_desktop.scoring.artimuse import quant_layers

    torch.manual_seed(seed)
    weight = torch.randn(out_features, in_features) * 0.05
    packed, pairs = quant_layers.int4_pack(weight, group)
    groups = weight.reshape(out_features, in_features // group, group)
    low, high = groups.amin(-1, keepdim=True), groups.amax(-1, keepdim=True)
    q = ((groups - low) / ((high - low) / 15).clamp(min=1e-8)).round().clamp(0, 15).reshape(weight.shape)
    return q, packed, pairs


def _exact(x, q, pairs, group):  # type: ignore[no-untyped-def]
    """x W^T in float64 with W = (q - 8) * scale + zero, the bf16 scales and zeros the kernels read."""
    scale, zero = pairs[..., 0].double().t(), pairs[..., 1].double().t()  # [N, groups]
    n, k = q.shape
    w = (q.double().reshape(n, k // group, group) - 8) * scale[..., None] + zero[..., None]
    return x.double() @ w.reshape(n, k).t()


@pytest.mark.skipif(not LINUX_X86, reason="the AMX kernel is built on Linux x86-64 only")
def test_the_amx_kernel_is_built_and_knows_its_cpu() -> None:
    """The install compiled the kernel (a broken build would fall back silently: this catches it), and it
    runs exactly where the CPU has AMX-BF16 and the AVX-512 instructions it unpacks with."""
    from artimuse_desktop.scoring.artimuse import _int4_amx

    needed = {"amx_bf16", "amx_tile", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512vbmi"}
    assert _int4_amx.supported() == (needed <= _cpu_flags())


def _amx() -> None:
    from artimuse_desktop.scoring.artimuse import int4_kernels

    if int4_kernels.kernel() != "amx":
        pytest.skip("this CPU has no AMX-BF16 (torch's int4 kernel runs here)")


@pytest.mark.parametrize(("out_features", "in_features", "group"), [(192, 384, 128), (128, 96, 32), (64, 192, 64)])
def test_amx_products_are_exact_to_float32_then_rounded_as_tinygemm(
    out_features: int, in_features: int, group: int
) -> None:
    """Every row count (one tile of 16 rows, a partial one, several): the exact product rounded to bfloat16,
    and the very sums torch's kernel returns, but for a rare sum that float32 rounds to the other side."""
    import torch

    from artimuse_desktop.scoring.artimuse import int4_kernels

    _amx()
    q, packed, pairs = _quantised(out_features, in_features, group)
    for rows in (1, 5, 16, 17, 40):
        x = torch.randn(rows, in_features).to(torch.bfloat16)
        y = int4_kernels.matmul(x, packed, group, pairs)
        exact = _exact(x, q, pairs, group)
        assert y.dtype == torch.float32 and y.shape == (rows, out_features)
        assert torch.equal(y, y.bfloat16().float())  # rounded to bfloat16, as tinygemm's sums
        # the exact sum rounded to bfloat16 (half a step), but where float32 sums fall on the other side
        assert ((y.double() - exact).abs() <= exact.abs() * 2**-8 + 1e-5 * exact.abs().max()).all()
        assert (y.double() != exact.float().bfloat16().double()).float().mean() < 0.02
        tiny = torch.ops.aten._weight_int4pack_mm_for_cpu(x, packed, group, pairs).float()
        assert (y != tiny).float().mean() < 0.02
        assert ((y - tiny).abs() <= tiny.abs() * 2**-7 + 1e-5 * tiny.abs().max()).all()  # one bfloat16 step
        strided = x.t().contiguous().t()  # the same rows, not contiguous: copied before the kernel reads them
        assert not strided.is_contiguous() or rows == 1
        assert torch.equal(int4_kernels.matmul(strided, packed, group, pairs), y)


def test_a_4bit_layer_gives_the_same_numbers_with_either_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """An ``Int4Linear`` (with its bias, 3-d input) through the AMX kernel and through torch's: a 4-bit
    model's numbers do not depend on which kernel the CPU ran."""
    import torch

    from artimuse_desktop.scoring.artimuse import int4_kernels, quant_layers

    _amx()
    torch.manual_seed(1)
    weight, bias, x = torch.randn(128, 256) * 0.05, torch.randn(128), torch.randn(3, 7, 256)
    layer = quant_layers.build("int4", "w", weight, bias)
    amx = layer(x)
    monkeypatch.setenv(int4_kernels.ENVIRONMENT, "tinygemm")
    int4_kernels.kernel.cache_clear()
    try:
        assert int4_kernels.kernel() == "tinygemm"
        tiny = layer(x)
    finally:
        monkeypatch.delenv(int4_kernels.ENVIRONMENT)
        int4_kernels.kernel.cache_clear()
    assert amx.shape == tiny.shape == (3, 7, 128)
    torch.testing.assert_close(amx, tiny, rtol=2**-7, atol=1e-5)


def test_a_shape_the_amx_kernel_does_not_take_goes_to_torch() -> None:
    """48 output columns (not a block of 64): torch's kernel, on every CPU, with its exact numbers."""
    import torch

    from artimuse_desktop.scoring.artimuse import int4_kernels

    assert not int4_kernels.takes(48, 64) and int4_kernels.takes(64, 32) and not int4_kernels.takes(64, 16)
    _, packed, pairs = _quantised(48, 128, 64)
    x = torch.randn(3, 128).to(torch.bfloat16)
    expected = torch.ops.aten._weight_int4pack_mm_for_cpu(x, packed, 64, pairs).float()
    assert torch.equal(int4_kernels.matmul(x, packed, 64, pairs), expected)
