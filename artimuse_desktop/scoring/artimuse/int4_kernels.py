"""The 4-bit products of CPU ArtiMuse: which kernel multiplies a layer's 4-bit weights, and the call.

* ``amx``: ``_int4_amx``, the package's own C kernel (built with it on Linux x86-64), on CPUs whose AMX
  tiles the kernel lets this process use. Each group of weights is unpacked to bfloat16 and multiplied on the
  tiles; the group's scale and zero are applied after. torch's kernel multiplies in float32 FMAs and is
  compute-bound from two rows on (8 rows of an 18944 x 3584 matrix cost 3.8x one row there), so at the 8B
  shape on 2 cores a 4-bit score took 50 s against 11 s here, and 8 critiques decoded at 9.3 tokens/s
  against 20.6 (bfloat16: 7.2; ``bench/bench_artimuse_real_shape.py``).
* ``tinygemm``: torch's ``aten::_weight_int4pack_mm_for_cpu`` everywhere else, and for a layer whose shape
  the AMX kernel does not take (columns in blocks of 64, groups of 32, 64 or 128).

Both read the weights in the layout torch packed them in (its AVX512 one on every AMX CPU), so the cache file
is the same for both; both return sums rounded to bfloat16, so a 4-bit model computes the same numbers with
either (about 1 sum in 500 rounds the other way by one bfloat16 step: the tiles add in another order).
``ARTIMUSE_INT4_KERNEL=tinygemm`` asks for torch's kernel (the benches compare the two in one run).
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

ENVIRONMENT = "ARTIMUSE_INT4_KERNEL"
AMX_BLOCK_COLUMNS = 64  # the AMX kernel's column blocks: torch's AVX512 packing of 4-bit weights
AMX_GROUP_STEP = 32  # bfloat16 values in a tile row: a group is a whole number of them


@functools.cache
def kernel() -> str:
    """``amx`` where the package's AMX kernel runs on this CPU, else ``tinygemm`` (torch's own)."""
    if os.environ.get(ENVIRONMENT, "").strip().lower() == "tinygemm":
        return "tinygemm"
    reason = _amx_refusal()
    if reason:
        log.debug("4-bit products on torch's kernel: %s", reason)
        return "tinygemm"
    return "amx"


def _amx_refusal() -> str | None:
    """Why the AMX kernel cannot run here, or None."""
    import torch

    try:
        from artimuse_desktop.scoring.artimuse import _int4_amx
    except ImportError as error:
        return f"the AMX kernel was not built with this install ({error})"
    if not _int4_amx.supported():
        return "this CPU (or its operating system) gives no AMX-BF16 tiles to this process"
    capability = str(getattr(torch.backends.cpu, "get_cpu_capability", lambda: "")()).upper()
    if not capability.startswith("AVX512"):
        return f"torch packs 4-bit weights for {capability or 'an unknown CPU'}, not in its AVX512 layout"
    return None


def takes(out_features: int, group_size: int) -> bool:
    """Whether the AMX kernel takes a layer of this shape."""
    return out_features % AMX_BLOCK_COLUMNS == 0 and group_size % AMX_GROUP_STEP == 0


def matmul(flat: Any, packed: Any, group_size: int, scales_and_zeros: Any) -> Any:
    """``flat W^T`` in float32 (sums rounded to bfloat16) for bfloat16 rows ``flat`` ``[M, K]`` and a weight
    packed by ``aten::_convert_weight_to_int4pack_for_cpu`` with its ``[K / group, N, 2]`` scales and zeros."""
    import torch

    out_features = int(scales_and_zeros.shape[1])
    typed = flat.dtype == scales_and_zeros.dtype == torch.bfloat16 and packed.dtype == torch.uint8
    if kernel() == "amx" and typed and takes(out_features, group_size):
        from artimuse_desktop.scoring.artimuse import _int4_amx

        # held by name while the kernel reads them by address
        rows, weight, pairs = flat.contiguous(), packed.contiguous(), scales_and_zeros.contiguous()
        y = torch.empty(int(rows.shape[0]), out_features, dtype=torch.float32)
        _int4_amx.matmul(
            rows.data_ptr(), int(rows.shape[0]), int(rows.shape[1]), weight.data_ptr(), out_features,
            pairs.data_ptr(), group_size, y.data_ptr(), torch.get_num_threads(),
        )  # fmt: skip
        return y
    return torch.ops.aten._weight_int4pack_mm_for_cpu(flat, packed, group_size, scales_and_zeros).float()
