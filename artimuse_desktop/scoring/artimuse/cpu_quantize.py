"""8-bit and 4-bit ArtiMuse on a CPU, with torch's own integer kernels, loaded tensor by tensor.

Why torch's kernels and not a library: torchao 0.18 (the candidate) runs int8 x int8 on a CPU only through
``torch.compile``; eagerly its int8 matmul was 30x slower than float32 here, and its int4 path needs
``mslk`` (GPU kernels). bitsandbytes is CUDA-only in the versions we allow. torch itself ships the kernels
(``quantized::linear_dynamic``: oneDNN on x86, with VNNI or AMX where the CPU has them, QNNPACK on ARM; and
``aten::_weight_int4pack_mm_for_cpu``), so no new dependency:

* ``8bit``: int8 weights (per output channel) with int8 activations quantised on the fly (per token) for
  every Linear layer, vision tower, projector and ``lm_head`` included. The score is compute-bound, so the
  integer dot products are what makes it cheaper; decoding also gains (4x less weight traffic than float32).
* ``4bit``: the language model's Linear layers hold 4-bit weights in groups of 128 (asymmetric, the
  tinygemm convention), multiplied with bfloat16 activations (``int4_kernels``: the package's AMX kernel
  where the CPU has AMX, torch's tinygemm elsewhere): the least memory and the fastest decoding of
  critiques (memory-bound). The vision tower, the projector, ``lm_head`` and any layer whose shape the int4
  kernel does not take are int8 as in ``8bit``.

This module's job is the model: which layer becomes what (``plan``), and the load that fills a model built
on the meta device. The layers themselves are ``quant_layers``; the cache file is ``quant_cache``.
Everything else (norms, attention, residuals) runs in float32; the token embedding is kept as stored
(bfloat16: exact) and looked up into float32. Each tensor is read from the safetensors shards, quantised and
dropped before the next one, so loading never holds a bfloat16 copy of the model: peak memory is the
quantised model plus one tensor. A quantised model's scores are another model version (``backend`` adds the
mode to the version string). The integer tensors are cached in the model store (``quant_cache``): a later
load reads them instead of quantising again.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from artimuse_desktop.errors import ModelUnavailableError
from artimuse_desktop.scoring.artimuse import quant_cache, quant_layers
from artimuse_desktop.scoring.artimuse.quant_cache import CacheKey, CacheReader, CacheUnusable, CacheWriter

log = logging.getLogger(__name__)

MODES: dict[str, str] = {
    "8bit": "int8 weights and int8 activations (fast scores; on CPUs and CUDA GPUs)",
    "4bit": "4-bit weights, groups of 128 (least memory, fastest critique decoding; on CPUs and CUDA GPUs)",
}


def check_supported(mode: str) -> None:
    """Refuse, with the reason, a mode this build of torch cannot run on this CPU."""
    import torch

    if mode not in MODES:
        raise ModelUnavailableError(f"unknown quantization {mode!r}; use one of {', '.join(MODES)}")
    if quant_layers.engine() is None:
        raise ModelUnavailableError(
            f"--quantize {mode} needs torch's quantized CPU kernels (oneDNN or QNNPACK); this torch has none",
            hint="use --dtype bfloat16 or float32",
        )
    if mode == "4bit" and not hasattr(torch.ops.aten, "_weight_int4pack_mm_for_cpu"):
        raise ModelUnavailableError(
            f"--quantize 4bit needs torch's int4 CPU kernel (torch >= 2.5); this is torch {torch.__version__}",
            hint="use --quantize 8bit",
        )


def plan(model: Any, mode: str) -> dict[str, str]:
    """Which Linear layers become what: ``{module name: "int8" | "int4"}`` (all Linear layers are listed)."""
    from torch import nn

    kinds: dict[str, str] = {}
    for name, module in model.named_modules():
        if not isinstance(module, nn.Linear):
            continue
        in_language_model = ".language_model.layers." in f".{name}"
        if mode == "4bit" and in_language_model and quant_layers.int4_group(module.in_features, module.out_features):
            kinds[name] = "int4"
        else:
            kinds[name] = "int8"
    return kinds


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
        shapes, nbytes = quant_layers.cache_layout(model, kinds)
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
    from artimuse_desktop.scoring.artimuse.convert.safetensors_io import read_header
    from artimuse_desktop.scoring.artimuse.plain_reads import RowSlices, read_tensor

    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    embedding = "model.language_model.embed_tokens"
    pending: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    problems: list[str] = []

    def place(name: str, module: Any) -> None:
        parent, _, leaf = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, leaf, module)

    for file in find_weight_files(folder):
        refs = read_header(file)  # quantised layers read their weights with plain reads (``plain_reads``)
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
                        layer = quant_layers.from_cache(kinds[owner], owner, (shape[0], shape[1]), has_bias, cache)
                        place(owner, layer)
                elif owner in kinds:
                    parts = pending.setdefault(owner, {})
                    # weights are sliced row block by row block by int8; int4 needs the whole matrix once
                    parts[leaf] = RowSlices(refs[key]) if kinds[owner] == "int8" else read_tensor(refs[key])
                    linear = model.get_submodule(owner)
                    if "weight" in parts and (linear.bias is None or "bias" in parts):
                        place(owner, quant_layers.build(kinds[owner], owner, parts["weight"], parts.get("bias"), sink))
                        del pending[owner]
                elif owner == embedding:
                    place(owner, quant_layers.layer_classes()["embedding"](handle.get_tensor(key), torch.float32))
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
            place("lm_head", quant_layers.from_cache("int8", "lm_head", tuple(weight.shape), False, cache))
        else:
            place("lm_head", quant_layers.build("int8", "lm_head", weight, None, sink))
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
