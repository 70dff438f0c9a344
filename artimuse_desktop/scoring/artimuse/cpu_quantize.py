"""8-bit and 4-bit ArtiMuse on a CPU, with torch's own integer kernels, loaded tensor by tensor.

Why torch's kernels and not a library: torchao 0.18 (the candidate) runs int8 x int8 on a CPU only through
``torch.compile``; eagerly its int8 matmul was 30x slower than float32 here, and its int4 path needs
``mslk`` (GPU kernels). bitsandbytes is CUDA-only in the versions we allow. torch itself ships the kernels
(``quantized::linear_dynamic``: fbgemm / oneDNN on x86, with VNNI where the CPU has it, QNNPACK on ARM; and
``aten::_weight_int4pack_mm_for_cpu``), so no new dependency:

* ``8bit``: int8 weights (per output channel) with int8 activations quantised on the fly (per tensor) for
  every Linear layer, vision tower, projector and ``lm_head`` included. The score is compute-bound, so the
  integer dot products are what makes it cheaper; decoding also gains (4x less weight traffic than float32).
* ``4bit``: the language model's Linear layers hold 4-bit weights in groups of 128 (asymmetric, the
  tinygemm convention), multiplied with bfloat16 activations: the least memory and the fastest decoding of
  critiques (memory-bound). The vision tower, the projector, ``lm_head`` and any layer whose shape the int4
  kernel does not take are int8 as in ``8bit``.

Everything else (norms, attention, residuals) runs in float32; the token embedding is kept as stored
(bfloat16: exact) and looked up into float32. The model is built on the meta device and each tensor is read
from the safetensors shards, quantised and dropped before the next one, so loading never holds a bfloat16
copy of the model: peak memory is the quantised model plus one tensor. ``lm_head`` is quantised per row, so
the 101 score-token logits keep their own scales. A quantised model's scores are another model version
(``backend`` adds the mode to the version string). The integer tensors are cached in the model store
(``quant_cache``): a later load reads them instead of quantising again (int8 layers are still prepacked for
the kernel: that layout is not portable).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from artimuse_desktop.errors import ModelUnavailableError
from artimuse_desktop.scoring.artimuse import quant_cache
from artimuse_desktop.scoring.artimuse.quant_cache import CacheKey, CacheReader, CacheUnusable, CacheWriter

log = logging.getLogger(__name__)

MODES: dict[str, str] = {
    "8bit": "int8 weights and int8 activations (fast scores; on CPUs and CUDA GPUs)",
    "4bit": "4-bit weights, groups of 128 (least memory, fastest critique decoding; on CPUs and CUDA GPUs)",
}
GROUP_SIZES = (128, 64, 32)  # the first that divides a layer's input width is used for its 4-bit groups
ROW_BLOCK = 32768  # rows packed at a time: lm_head (151,674 x 3,584) is packed in 5 parts, never 3 copies whole
FLOAT_ROWS = 8192  # rows in float32 at a time while quantising


def _engine() -> str | None:
    """The quantised engine torch uses for int8 Linear here (x86: fbgemm/oneDNN, ARM: QNNPACK), or None."""
    import torch

    engines = list(torch.backends.quantized.supported_engines)
    current = torch.backends.quantized.engine
    if current in ("x86", "fbgemm", "onednn", "qnnpack"):
        return str(current)
    for name in ("x86", "fbgemm", "qnnpack"):
        if name in engines:
            torch.backends.quantized.engine = name
            return name
    return None


def check_supported(mode: str) -> None:
    """Refuse, with the reason, a mode this build of torch cannot run on this CPU."""
    import torch

    if mode not in MODES:
        raise ModelUnavailableError(f"unknown quantization {mode!r}; use one of {', '.join(MODES)}")
    if _engine() is None:
        raise ModelUnavailableError(
            f"--quantize {mode} needs torch's quantized CPU kernels (fbgemm or QNNPACK); this torch has none",
            hint="use --dtype bfloat16 or float32",
        )
    if mode == "4bit" and not hasattr(torch.ops.aten, "_weight_int4pack_mm_for_cpu"):
        raise ModelUnavailableError(
            f"--quantize 4bit needs torch's int4 CPU kernel (torch >= 2.5); this is torch {torch.__version__}",
            hint="use --quantize 8bit",
        )


def _reduce_range() -> bool:
    """fbgemm's non-VNNI kernels can saturate 8-bit products: activations use 7 bits there (torch's own
    default for x86). Always on x86, so a score does not depend on which x86 CPU computed it."""
    return _engine() in ("x86", "fbgemm")


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


def _classes() -> dict[str, type]:
    """The nn.Module classes, defined once torch is imported (module import must not import torch)."""
    global _CLASSES
    if _CLASSES:
        return _CLASSES
    import torch
    from torch import nn

    class Int8Linear(nn.Module):
        """``y = x W^T + b`` with int8 W (per row) and x quantised per call: ``quantized::linear_dynamic``."""

        def __init__(self, out_features: int, in_features: int, blocks: Iterator[Any], bias: Any | None) -> None:
            super().__init__()
            self.out_features, self.in_features = out_features, in_features
            fbias = None if bias is None else _tensor(bias).float().contiguous()
            self._parts = []  # lm_head in parts of ROW_BLOCK rows: packing one holds 3 copies of it at once
            for start, (values, scales) in zip(range(0, out_features, ROW_BLOCK), blocks, strict=True):
                zeros = torch.zeros_like(scales, dtype=torch.long)
                with warnings.catch_warnings():  # torch 2.13: qint8 tensors deprecated (its int8 kernels take them)
                    warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*")
                    qweight = torch._make_per_channel_quantized_tensor(values, scales, zeros, 0)
                del values
                part_bias = None if fbias is None else fbias[start : start + ROW_BLOCK].contiguous()
                self._parts.append(torch.ops.quantized.linear_prepack(qweight, part_bias))
                del qweight
            self.reduce_range = _reduce_range()

        def forward(self, x: Any) -> Any:
            flat = x.reshape(-1, self.in_features).float()
            # x is quantised per call the same way for every part: the same result as one matrix
            ys = [torch.ops.quantized.linear_dynamic(flat, part, self.reduce_range) for part in self._parts]
            y = ys[0] if len(ys) == 1 else torch.cat(ys, dim=-1)
            return y.reshape(*x.shape[:-1], self.out_features).to(x.dtype)

        def extra_repr(self) -> str:
            return f"in={self.in_features}, out={self.out_features}, int8 weights, int8 dynamic activations"

    class Int4Linear(nn.Module):
        """``y = x W^T + b`` with W in 4-bit groups (``_weight_int4pack_mm_for_cpu``, bf16 activations)."""

        def __init__(self, packed: Any, scales_and_zeros: Any, bias: Any | None, in_features: int) -> None:
            super().__init__()
            self.in_features, self.out_features = in_features, int(scales_and_zeros.shape[1])
            self.group_size = in_features // int(scales_and_zeros.shape[0])
            self.register_buffer("scales_and_zeros", scales_and_zeros)
            self.register_buffer("packed", packed)
            self.register_buffer("bias", None if bias is None else _tensor(bias).float().contiguous())

        def forward(self, x: Any) -> Any:
            flat = x.reshape(-1, self.in_features).to(torch.bfloat16)
            y = torch.ops.aten._weight_int4pack_mm_for_cpu(flat, self.packed, self.group_size, self.scales_and_zeros)
            y = y.float()
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


def _int4_group(in_features: int, out_features: int) -> int | None:
    """The 4-bit group size for a layer, or None when the int4 kernel does not take its shape."""
    if out_features % 16:
        return None
    return next((g for g in GROUP_SIZES if in_features % g == 0), None)


def plan(model: Any, mode: str) -> dict[str, str]:
    """Which Linear layers become what: ``{module name: "int8" | "int4"}`` (all Linear layers are listed)."""
    from torch import nn

    kinds: dict[str, str] = {}
    for name, module in model.named_modules():
        if not isinstance(module, nn.Linear):
            continue
        in_language_model = ".language_model.layers." in f".{name}"
        if mode == "4bit" and in_language_model and _int4_group(module.in_features, module.out_features):
            kinds[name] = "int4"
        else:
            kinds[name] = "int8"
    return kinds


def _int8_blocks(weight: Any, owner: str, sink: CacheWriter | None) -> Iterator[tuple[Any, Any]]:
    """``weight`` quantised ``ROW_BLOCK`` rows at a time (each block written to the cache as it is made)."""
    for index, start in enumerate(range(0, _shape(weight)[0], ROW_BLOCK)):
        values, scales = _int8_rows(weight[start : start + ROW_BLOCK])
        if sink is not None:
            sink.add(f"{owner}.qweight.{index}", values)
            sink.add(f"{owner}.qscale.{index}", scales)
        yield values, scales


def _int4_pack(weight: Any, group_size: int) -> tuple[Any, Any]:
    """Asymmetric 4-bit groups of ``group_size``: (the kernel's packed weight, bf16 scales and zeros)."""
    import torch

    w = _tensor(weight).to(torch.float32, copy=True)  # a copy: rounded in place below
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


def _build(kind: str, owner: str, weight: Any, bias: Any | None, sink: CacheWriter | None = None) -> Any:
    """The quantised module for ``owner`` from its float weight (and the cache's tensors written)."""
    classes = _classes()
    n, k = _shape(weight)[:2]
    if sink is not None and bias is not None:
        sink.add(f"{owner}.bias", _tensor(bias).float().contiguous())
    if kind == "int4":
        group = _int4_group(k, n)
        assert group is not None
        packed, scales_and_zeros = _int4_pack(weight, group)
        if sink is not None:
            sink.add(f"{owner}.packed", packed)
            sink.add(f"{owner}.scales_and_zeros", scales_and_zeros)
        return classes["int4"](packed, scales_and_zeros, bias, k)
    return classes["int8"](n, k, _int8_blocks(weight, owner, sink), bias)


def _from_cache(kind: str, owner: str, shape: tuple[int, int], has_bias: bool, cache: CacheReader) -> Any:
    """The quantised module for ``owner`` from the cache's tensors."""
    classes = _classes()
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
            group = _int4_group(k, n) or 1
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


def load_quantized(
    folder: Path, mode: str, attn_implementation: str = "eager", weights_sha256: str | None = None
) -> Any:
    """The installed model in ``folder`` as an ``InternVLForConditionalGeneration`` quantised to ``mode``.

    Every tensor in the safetensors files must be one the model has, with its shape, and every one the model
    has must be there: the same refusal ``from_pretrained``'s loading report gives the float path. With
    ``weights_sha256`` (the model version) the quantised tensors are read from the cache in the model store,
    or written there as they are made; a cache found unusable halfway is deleted and the load starts over.
    """
    check_supported(mode)
    key = quant_cache.key_for(mode, weights_sha256) if weights_sha256 else None
    try:
        return _load(folder, mode, attn_implementation, key)
    except CacheUnusable as exc:
        assert key is not None
        quant_cache.discard(key.path(folder), exc.message)
        return _load(folder, mode, attn_implementation, key)


def _load(folder: Path, mode: str, attn_implementation: str, key: CacheKey | None) -> Any:
    import torch
    from transformers import InternVLConfig, InternVLForConditionalGeneration

    started = time.perf_counter()
    config = InternVLConfig.from_pretrained(str(folder), local_files_only=True)
    config._attn_implementation = attn_implementation
    with torch.device("meta"):
        model = InternVLForConditionalGeneration._from_config(config, dtype=torch.float32)
    kinds = plan(model, mode)
    cache: CacheReader | None = None
    sink: CacheWriter | None = None
    if key is not None:
        shapes, nbytes = cache_layout(model, kinds)
        cache = quant_cache.open_reader(folder, key, shapes)
        if cache is None:
            sink = quant_cache.open_writer(folder, key, shapes, nbytes)
    try:
        _fill(model, folder, kinds, cache, sink)
        if sink is not None:
            try:
                log.info("quantised %s cached in %s", mode, sink.commit())
            except (OSError, ValueError) as exc:
                log.warning("could not write the quantised cache %s: %s", sink.final, exc)
                sink.abort()
            sink = None
    finally:
        if sink is not None:
            sink.abort()
        if cache is not None:
            cache.close()
    _rebuild_computed_buffers(model)
    model.eval()
    model.requires_grad_(False)
    how = f"from the cache {cache.path.name}" if cache is not None else "quantised now"
    int4, int8 = _counts(kinds)
    log.info(
        "loaded %s as %s (%s) in %.1f s: %d int4 and %d int8 layers",
        folder.name,
        mode,
        how,
        time.perf_counter() - started,
        int4,
        int8,
    )
    return model


def _fill(model: Any, folder: Path, kinds: dict[str, str], cache: CacheReader | None, sink: CacheWriter | None) -> None:
    """Every tensor from the shards (or, for the quantised layers, from ``cache``) into the meta model."""
    import torch
    from safetensors import safe_open
    from torch import nn

    from artimuse_desktop.scoring.artimuse.convert.checkpoint_files import find_weight_files

    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    embedding = "model.language_model.embed_tokens"
    pending: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    problems: list[str] = []

    def place(name: str, module: Any) -> None:
        parent, _, leaf = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, leaf, module)

    for file in find_weight_files(folder):
        with safe_open(str(file), framework="pt") as handle:
            for key in handle.keys():  # noqa: SIM118 (safe_open handles are not mappings)
                owner, _, leaf = key.rpartition(".")
                shape = tuple(handle.get_slice(key).get_shape())
                if expected.get(key) != shape:
                    problems.append(f"{key} {list(shape)}" + ("" if key in expected else " (not in the model)"))
                    continue
                seen.add(key)
                if owner in kinds and cache is not None:
                    if leaf == "weight":
                        linear = model.get_submodule(owner)
                        has_bias = linear.bias is not None
                        place(owner, _from_cache(kinds[owner], owner, (shape[0], shape[1]), has_bias, cache))
                elif owner in kinds:
                    parts = pending.setdefault(owner, {})
                    # weights are sliced row block by row block by int8; int4 needs the whole matrix once
                    parts[leaf] = handle.get_slice(key) if kinds[owner] == "int8" else handle.get_tensor(key)
                    linear = model.get_submodule(owner)
                    if "weight" in parts and (linear.bias is None or "bias" in parts):
                        place(owner, _build(kinds[owner], owner, parts["weight"], parts.get("bias"), sink))
                        del pending[owner]
                elif owner == embedding:
                    place(owner, _classes()["embedding"](handle.get_tensor(key), torch.float32))
                else:
                    module = model.get_submodule(owner)
                    tensor = handle.get_tensor(key).to(torch.float32)
                    if leaf in module._parameters:
                        module._parameters[leaf] = nn.Parameter(tensor, requires_grad=False)
                    else:
                        module._buffers[leaf] = tensor
    missing = sorted(set(expected) - seen)
    if model.config.tie_word_embeddings and missing == ["lm_head.weight"]:
        missing = []
        weight = model.get_input_embeddings().weight
        if cache is not None:
            place("lm_head", _from_cache("int8", "lm_head", tuple(weight.shape), False, cache))
        else:
            place("lm_head", _build("int8", "lm_head", weight, None, sink))
    if missing or problems:
        raise ModelUnavailableError(
            f"the model in {folder} does not match its config: "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing[:3])}" if missing else "",
                    f"unexpected {', '.join(problems[:3])}" if problems else "",
                )
                if part
            ),
            hint="remove it and add it again: `artimuse-desktop models remove NAME`",
        )


def _counts(kinds: dict[str, str]) -> tuple[int, int]:
    values = list(kinds.values())
    return values.count("int4"), values.count("int8")


def _rebuild_computed_buffers(model: Any) -> None:
    """Buffers computed at construction (rotary frequencies) are still on the meta device: compute them."""
    for name, module in list(model.named_modules()):
        if not any(b is not None and b.is_meta for b in module._buffers.values()):
            continue
        config = getattr(module, "config", None)
        if config is None:
            raise ModelUnavailableError(f"cannot build {name} ({type(module).__name__}) off the meta device")
        fresh = type(module)(config=config)
        parent, _, leaf = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, leaf, fresh)
    left = [n for n, t in (*model.named_parameters(), *model.named_buffers()) if t.is_meta]
    if left:
        raise ModelUnavailableError(f"no weights were loaded for {', '.join(left[:3])}")
