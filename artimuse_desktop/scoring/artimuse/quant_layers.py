"""The quantised layers of CPU ArtiMuse: int8 and 4-bit Linear modules and the stored embedding table, each
made from a float weight (its integer tensors handed to the cache as they are made) or from the cache's tensors.

* ``Int8Linear``: int8 weights per output channel, activations quantised on each call, one scale per token
  on x86 (per photo, image tile or critique row elsewhere: a score never depends on the photos batched with
  it); the kernels are ``int8_kernels``' (oneDNN on x86, with VNNI or AMX where the CPU has them, QNNPACK on
  ARM). A large matrix (``lm_head``) is packed ``ROW_BLOCK`` rows at a time, so packing never holds three
  copies of it; quantised per row, the 101 score-token logits keep their own scales.
* ``Int4Linear``: 4-bit weights in asymmetric groups (the tinygemm convention, packed by
  ``aten::_convert_weight_to_int4pack_for_cpu``) with bfloat16 activations; the kernels are
  ``int4_kernels``' (the package's AMX kernel where the CPU has AMX, torch's tinygemm elsewhere).
* ``StoredEmbedding``: the token table as stored (bfloat16: exact), looked up into float32.

Which layer becomes which, and walking the model, is ``cpu_quantize``'s job; the cache file is
``quant_cache``'s. ``cache_layout`` names each layer's tensors in that file (int8 layers are prepacked for the
kernel again on every load: that layout is not portable).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from artimuse_desktop.scoring.artimuse import int4_kernels, int8_kernels
from artimuse_desktop.scoring.artimuse.quant_cache import CacheReader, CacheWriter

GROUP_SIZES = (128, 64, 32)  # the first that divides a layer's input width is used for its 4-bit groups
ROW_BLOCK = 32768  # rows packed at a time: lm_head (151,674 x 3,584) is packed in 5 parts, never 3 copies whole
FLOAT_ROWS = 8192  # rows in float32 at a time while quantising
INT4_ROWS = 4096  # rows packed to 4 bits at a time: a multiple of the kernel's blocks of 64 rows


def engine() -> str | None:
    """The int8 kernel here (``int8_kernels``: oneDNN on x86, QNNPACK's dynamic Linear on ARM), or None."""
    return int8_kernels.kernel()


def _int8_rows(weight: Any) -> tuple[Any, Any]:
    """Symmetric per-row int8 of a ``[N, K]`` weight, ``FLOAT_ROWS`` rows at a time: (int8 values, scales)."""
    import torch

    rows = _shape(weight)[0]
    values = torch.empty(_shape(weight), dtype=torch.int8)
    scales = torch.empty(rows, dtype=torch.float64)
    for start in range(0, rows, FLOAT_ROWS):
        block = weight[start : start + FLOAT_ROWS].to(torch.float32, copy=True)  # a copy: divided in place
        scale = torch.linalg.vector_norm(block, ord=float("inf"), dim=1).clamp_(min=1e-12).div_(127.0)
        values[start : start + FLOAT_ROWS] = block.div_(scale[:, None]).round_().clamp_(-127, 127)
        scales[start : start + FLOAT_ROWS] = scale
    return values, scales


def _tensor(block: Any) -> Any:
    """A safetensors slice or a tensor, as a tensor."""
    return block if hasattr(block, "float") else block[:]


def _shape(block: Any) -> tuple[int, ...]:
    """The shape of a safetensors slice or a tensor."""
    return tuple(block.shape) if hasattr(block, "shape") else tuple(block.get_shape())


def layer_classes() -> dict[str, type]:
    """The nn.Module classes, defined once torch is imported (module import must not import torch)."""
    global _CLASSES
    if _CLASSES:
        return _CLASSES
    import torch
    from torch import nn

    class Int8Linear(nn.Module):
        """``y = x W^T + b`` with int8 W (per row) and x quantised per call (``int8_kernels.prepare``)."""

        def __init__(self, out_features: int, in_features: int, blocks: Iterator[Any], bias: Any | None) -> None:
            super().__init__()
            self.out_features, self.in_features = out_features, in_features
            fbias = None if bias is None else _tensor(bias).float().contiguous()
            self._parts = []  # lm_head in parts of ROW_BLOCK rows: packing one holds 3 copies of it at once
            for start, (values, scales) in zip(range(0, out_features, ROW_BLOCK), blocks, strict=True):
                part_bias = None if fbias is None else fbias[start : start + ROW_BLOCK].contiguous()
                self._parts.append(int8_kernels.pack(values, scales, part_bias))
                del values

        def forward(self, x: Any) -> Any:
            # samples are quantised apart; q, k and v share one prepared input
            ys = [self._rows(sample) for sample in int8_kernels.prepare(x, self.in_features)]
            y = ys[0] if len(ys) == 1 else torch.stack(ys)
            return y.reshape(*x.shape[:-1], self.out_features).to(x.dtype)

        def _rows(self, prepared: Any) -> Any:
            # x is quantised once for every part: the same result as one matrix
            ys = [int8_kernels.run(prepared, part) for part in self._parts]
            return ys[0] if len(ys) == 1 else torch.cat(ys, dim=-1)

        def extra_repr(self) -> str:
            return f"in={self.in_features}, out={self.out_features}, int8 weights, int8 dynamic activations"

    class Int4Linear(nn.Module):
        """``y = x W^T + b`` with W in 4-bit groups (``int4_kernels.matmul``, bf16 activations)."""

        def __init__(self, packed: Any, scales_and_zeros: Any, bias: Any | None, in_features: int) -> None:
            super().__init__()
            self.in_features, self.out_features = in_features, int(scales_and_zeros.shape[1])
            self.group_size = in_features // int(scales_and_zeros.shape[0])
            self.register_buffer("scales_and_zeros", scales_and_zeros)
            self.register_buffer("packed", packed)
            self.register_buffer("bias", None if bias is None else _tensor(bias).float().contiguous())

        def forward(self, x: Any) -> Any:
            flat = x.reshape(-1, self.in_features).to(torch.bfloat16)
            y = int4_kernels.matmul(flat, self.packed, self.group_size, self.scales_and_zeros)
            if self.bias is not None:
                y = y + self.bias
            return y.reshape(*x.shape[:-1], self.out_features).to(x.dtype)

        def extra_repr(self) -> str:
            return f"in={self.in_features}, out={self.out_features}, 4-bit weights, groups of {self.group_size}"

    class StoredEmbedding(nn.Embedding):
        """The token table as stored (bfloat16: exact, half of float32), looked up into ``output_dtype``."""

        def __init__(self, weight: Any, output_dtype: Any) -> None:
            super().__init__(int(weight.shape[0]), int(weight.shape[1]), device="meta")
            self.weight = nn.Parameter(weight, requires_grad=False)
            self.output_dtype = output_dtype

        def forward(self, ids: Any) -> Any:
            return super().forward(ids).to(self.output_dtype)

    _CLASSES = {"int8": Int8Linear, "int4": Int4Linear, "embedding": StoredEmbedding}
    return _CLASSES


_CLASSES: dict[str, type] = {}


def int4_group(in_features: int, out_features: int) -> int | None:
    """The 4-bit group size for a layer, or None when the int4 kernel does not take its shape."""
    if out_features % 16:
        return None
    return next((g for g in GROUP_SIZES if in_features % g == 0), None)


def _int8_blocks(weight: Any, owner: str, sink: CacheWriter | None) -> Iterator[tuple[Any, Any]]:
    """``weight`` quantised ``ROW_BLOCK`` rows at a time (each block written to the cache as it is made)."""
    for index, start in enumerate(range(0, _shape(weight)[0], ROW_BLOCK)):
        values, scales = _int8_rows(weight[start : start + ROW_BLOCK])
        if sink is not None:
            sink.add(f"{owner}.qweight.{index}", values)
            sink.add(f"{owner}.qscale.{index}", scales)
        yield values, scales


def int4_pack(weight: Any, group_size: int) -> tuple[Any, Any]:
    """Asymmetric 4-bit groups of ``group_size``: (the kernel's packed weight, bf16 scales and zeros).

    ``INT4_ROWS`` rows at a time: their float32 and int32 copies are 4 and 4 bytes a weight, so a whole
    18944 x 3584 matrix at once was 0.5 GB beyond the model while loading (the kernel packs rows in blocks of
    64, so the packed blocks join end to end)."""
    import torch

    tensor = _tensor(weight)
    packed, pairs = [], []
    for start in range(0, int(tensor.shape[0]), INT4_ROWS):
        block_packed, block_pairs = _int4_pack_rows(tensor[start : start + INT4_ROWS], group_size)
        packed.append(block_packed)
        pairs.append(block_pairs)
    if len(packed) == 1:
        return packed[0], pairs[0]
    return torch.cat(packed), torch.cat(pairs, dim=1)


def _int4_pack_rows(weight: Any, group_size: int) -> tuple[Any, Any]:
    import torch

    w = weight.to(torch.float32, copy=True)  # a copy: rounded in place below
    n, k = int(w.shape[0]), int(w.shape[1])
    groups = w.reshape(n, k // group_size, group_size)
    low, high = torch.aminmax(groups, dim=-1, keepdim=True)
    scale = high.sub_(low).div_(15.0).clamp_(min=1e-8)
    q = groups.sub_(low).div_(scale).round_().clamp_(0, 15).to(torch.int32).reshape(n, k)
    del groups, w
    # the kernel computes (q - 8) * scale + zero, so zero is the value of q = 8
    zero = low + 8.0 * scale
    pairs = torch.cat([scale, zero], dim=-1).reshape(n, k // group_size, 2).transpose(0, 1)
    return torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 8), pairs.contiguous().to(torch.bfloat16)


def build(kind: str, owner: str, weight: Any, bias: Any | None, sink: CacheWriter | None = None) -> Any:
    """The quantised module for ``owner`` from its float weight (and the cache's tensors written)."""
    classes = layer_classes()
    n, k = _shape(weight)[:2]
    if sink is not None and bias is not None:
        sink.add(f"{owner}.bias", _tensor(bias).float().contiguous())
    if kind == "int4":
        group = int4_group(k, n)
        assert group is not None
        packed, scales_and_zeros = int4_pack(weight, group)
        if sink is not None:
            sink.add(f"{owner}.packed", packed)
            sink.add(f"{owner}.scales_and_zeros", scales_and_zeros)
        return classes["int4"](packed, scales_and_zeros, bias, k)
    return classes["int8"](n, k, _int8_blocks(weight, owner, sink), bias)


def from_cache(kind: str, owner: str, shape: tuple[int, int], has_bias: bool, cache: CacheReader) -> Any:
    """The quantised module for ``owner`` from the cache's tensors."""
    classes = layer_classes()
    n, k = shape
    bias = cache.get(f"{owner}.bias") if has_bias else None
    if kind == "int4":
        return classes["int4"](cache.get(f"{owner}.packed"), cache.get(f"{owner}.scales_and_zeros"), bias, k)
    blocks = (
        (cache.get(f"{owner}.qweight.{i}"), cache.get(f"{owner}.qscale.{i}")) for i in range(math.ceil(n / ROW_BLOCK))
    )
    return classes["int8"](n, k, blocks, bias)


def cache_layout(model: Any, kinds: dict[str, str]) -> tuple[dict[str, tuple[int, ...] | None], int]:
    """The cache's tensors (name: shape; None where the kernel decides it) and their bytes, for ``kinds``."""
    shapes: dict[str, tuple[int, ...] | None] = {}
    nbytes = 0
    for owner, kind in kinds.items():
        linear = model.get_submodule(owner)
        n, k = int(linear.out_features), int(linear.in_features)
        if linear.bias is not None:
            shapes[f"{owner}.bias"] = (n,)
            nbytes += 4 * n
        if kind == "int4":
            group = int4_group(k, n) or 1
            shapes[f"{owner}.packed"] = None
            shapes[f"{owner}.scales_and_zeros"] = (k // group, n, 2)
            nbytes += n * k // 2 + 4 * n * (k // group)
            continue
        for index, start in enumerate(range(0, n, ROW_BLOCK)):
            rows = min(ROW_BLOCK, n - start)
            shapes[f"{owner}.qweight.{index}"] = (rows, k)
            shapes[f"{owner}.qscale.{index}"] = (rows,)
            nbytes += rows * k + 8 * rows
    return shapes, nbytes
