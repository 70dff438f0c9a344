"""The int8 products of CPU ArtiMuse's 8-bit layers: which kernel, how a weight is packed for it, and how
activations are quantised for it.

* x86 (``onednn``): oneDNN's ``qlinear_pointwise`` over weights packed once, its exact integer products scaled
  back here. Activations are quantised here, each row (token) with its own scale and zero point, to 7-bit
  unsigned values (fbgemm's ``reduce_range``): without VNNI 8-bit products saturate (oneDNN limited to AVX2
  gives wrong numbers for them), and with 7 bits AVX2, AVX512, VNNI and AMX compute the same numbers
  (``tests/artimuse/test_quant_layers.py``). A scale per token instead of one per photo cut the 8-bit drift
  from float32 at the 8B shape from 7.0 to 2.0 points (max; 4.0 to 1.0 mean). With AMX the products run 2x
  faster than fbgemm's, and the model holds one int8 copy of each weight: ``quantized::linear_dynamic`` keeps
  the original beside its oneDNN packing (15 GB for the 8B model).
* elsewhere (``dynamic``: QNNPACK on ARM, fbgemm on an x86 torch without oneDNN): ``quantized::linear_dynamic``,
  one product per sample, which it quantises with one scale (7 bits with fbgemm, for the same reason).

A layer's input is prepared once however many layers take it: q, k and v (and gate and up) take the same
tensor. All of a call's rows go through one product, so 8 critiques decoding together read the weights once.
"""

from __future__ import annotations

import functools
import platform
import threading
import warnings
from typing import Any, NamedTuple

ACTIVATION_LEVELS = 127  # 7-bit unsigned activations: 0..127, never a saturated product on any x86 CPU
X86 = ("x86_64", "amd64", "i686", "x86")


@functools.cache
def kernel() -> str | None:
    """``onednn`` on x86 (where torch has it), ``dynamic`` (a quantised engine), or None: no int8 kernel."""
    import torch

    engines = list(torch.backends.quantized.supported_engines)
    if platform.machine().lower() in X86:
        if torch.backends.mkldnn.is_available() and hasattr(torch.ops.onednn, "qlinear_pointwise"):
            return "onednn"
        preferred: tuple[str, ...] = ("x86", "fbgemm")
    else:
        preferred = ("qnnpack",)
    name = next((n for n in preferred if n in engines), None)
    if name is None:
        return None
    if torch.backends.quantized.engine != name:
        torch.backends.quantized.engine = name
    return "dynamic"


def pack(values: Any, scales: Any, bias: Any | None) -> Any:
    """``values`` (int8 ``[N, K]``, one ``scales`` per row) packed for the kernel; ``values`` can be dropped."""
    import torch

    if kernel() == "onednn":
        scales32 = scales.to(torch.float32)
        # for rows quantised with their own zero points: sum_k (q - zp) w = sum_k q w - zp * sum_k w
        row_sums = values.sum(dim=1, dtype=torch.int64).double().mul_(scales.double()).float()
        corrections = torch.stack([row_sums, bias if bias is not None else torch.zeros_like(row_sums)])
        zeros = torch.zeros(int(scales.shape[0]), dtype=torch.long)
        return OnednnWeight(torch.ops.onednn.qlinear_prepack(values, None), scales32, zeros, corrections)
    with warnings.catch_warnings():  # torch 2.13: qint8 tensors deprecated (its int8 kernels take them)
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")
        zeros = torch.zeros_like(scales, dtype=torch.long)
        qweight = torch._make_per_channel_quantized_tensor(values, scales, zeros, 0)
    return torch.ops.quantized.linear_prepack(qweight, bias)


class OnednnWeight(NamedTuple):
    """A weight packed for oneDNN, its per-row scales and zero points (0), and ``[row sums, bias]``."""

    packed: Any
    scales: Any
    zeros: Any
    corrections: Any


class Rows(NamedTuple):
    """Rows (tokens) quantised each with its own scale and zero point: ``shifts`` is ``[-scale * zero point,
    1]`` per row, what multiplies the weight's ``[row sums, bias]``."""

    values: Any
    scales: Any
    shifts: Any


def run(prepared: Any, weight: Any) -> Any:
    """``x W^T + b`` in float32 for prepared rows (``prepare``) and one packed weight."""
    import torch

    if isinstance(prepared, Rows):  # exact integer products, then each row's own scale and zero point
        products = torch.ops.onednn.qlinear_pointwise(
            prepared.values, 1.0, 0, weight.packed, weight.scales, weight.zeros, None, 1.0, 0, torch.float32,
            "none", [], "",
        )  # fmt: skip
        return products.mul_(prepared.scales[:, None]).addmm_(prepared.shifts, weight.corrections)
    reduce_range = torch.backends.quantized.engine in ("x86", "fbgemm")  # their non-VNNI kernels saturate
    return torch.ops.quantized.linear_dynamic(prepared, weight, reduce_range)


def prepare(x: Any, in_features: int) -> list[Any]:
    """``x`` ready for ``run``, once per input tensor: with oneDNN all its rows in one product, each row (a
    token) quantised with its own scale; with the dynamic kernel one product per sample (a photo, an image
    tile, a critique row), which it quantises with one scale. Either way a row's numbers never depend on the
    photos or critiques batched with it."""
    cached = _LAST.get(x)
    if cached is None:
        if kernel() == "onednn":
            cached = [_quantize_rows(x.reshape(-1, in_features).float())]
        else:
            samples = [x] if x.dim() < 3 or x.shape[0] == 1 else list(x)
            cached = [sample.reshape(-1, in_features).float() for sample in samples]
        _LAST.put(x, cached)
    return cached


def _quantize_rows(flat: Any) -> Rows:
    """Each row of ``flat`` as 7-bit unsigned values with its own scale and zero point (ranges holding 0).

    126 steps, not 127, so that rounding never passes 127; one fused pass (``x / scale + zero point``, then
    ``quantize_per_tensor``'s round and convert) is 4x faster than ``quantize_per_channel``."""
    import torch

    low, high = flat.amin(dim=1).clamp_(max=0.0), flat.amax(dim=1).clamp_(min=0.0)  # aminmax(dim) is 4x slower
    scales = (high - low).div_(ACTIVATION_LEVELS - 1)
    scales[scales == 0] = 1.0
    zero_points = (-low / scales).round_()
    shifted = torch.addcmul(zero_points[:, None], flat, scales.reciprocal()[:, None])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")
        values = torch.quantize_per_tensor(shifted, 1.0, 0, torch.quint8).int_repr()
    shifts = torch.stack([-scales * zero_points, torch.ones_like(scales)], dim=1)  # once, not once per part
    return Rows(values, scales, shifts)


class _LastInput(threading.local):
    """The last input prepared on this thread, held (so its identity cannot pass to another tensor)."""

    def __init__(self) -> None:
        self.tensor: Any = None
        self.prepared: list[Any] = []

    def get(self, x: Any) -> list[Any] | None:
        return self.prepared if self.tensor is x else None

    def put(self, x: Any, prepared: list[Any]) -> None:
        self.tensor, self.prepared = x, prepared


_LAST = _LastInput()
