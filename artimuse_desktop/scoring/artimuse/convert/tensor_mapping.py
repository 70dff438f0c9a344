"""Tensor-name mapping: the authors' keys -> native ones, and the shapes the native config implies.

The fused InternViT ``attn.qkv`` becomes q, k and v by slicing thirds of axis 0 (contiguous byte ranges, so
no tensor is ever materialised). Every expected tensor is then checked by name and shape against the config.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.artimuse.convert.config_mapping import square_side
from artimuse_desktop.scoring.artimuse.convert.safetensors_io import TensorRef

_VISION_LAYER = re.compile(r"^vision_model\.encoder\.layers\.(\d+)\.(.+)$")
_VISION_LAYER_PARTS = {
    "attn.proj.weight": "attention.projection_layer.weight",
    "attn.proj.bias": "attention.projection_layer.bias",
    "attn.q_norm.weight": "attention.q_norm.weight",
    "attn.k_norm.weight": "attention.k_norm.weight",
    "mlp.fc1.weight": "mlp.fc1.weight",
    "mlp.fc1.bias": "mlp.fc1.bias",
    "mlp.fc2.weight": "mlp.fc2.weight",
    "mlp.fc2.bias": "mlp.fc2.bias",
    "norm1.weight": "layernorm_before.weight",
    "norm1.bias": "layernorm_before.bias",
    "norm2.weight": "layernorm_after.weight",
    "norm2.bias": "layernorm_after.bias",
    "ls1": "lambda_1",
    "ls2": "lambda_2",
}
_RENAMES = {
    "vision_model.embeddings.class_embedding": "model.vision_tower.embeddings.cls_token",
    "vision_model.embeddings.position_embedding": "model.vision_tower.embeddings.position_embeddings",
    "vision_model.embeddings.patch_embedding.weight": (
        "model.vision_tower.embeddings.patch_embeddings.projection.weight"
    ),
    "vision_model.embeddings.patch_embedding.bias": ("model.vision_tower.embeddings.patch_embeddings.projection.bias"),
    "mlp1.0.weight": "model.multi_modal_projector.layer_norm.weight",
    "mlp1.0.bias": "model.multi_modal_projector.layer_norm.bias",
    "mlp1.1.weight": "model.multi_modal_projector.linear_1.weight",
    "mlp1.1.bias": "model.multi_modal_projector.linear_1.bias",
    "mlp1.3.weight": "model.multi_modal_projector.linear_2.weight",
    "mlp1.3.bias": "model.multi_modal_projector.linear_2.bias",
    "language_model.lm_head.weight": "lm_head.weight",
}


def map_original_tensors(tensors: dict[str, TensorRef]) -> dict[str, TensorRef]:
    """Rename the authors' keys to native ones; the fused ``attn.qkv`` becomes q, k, v (thirds of axis 0)."""
    mapped: dict[str, TensorRef] = {}
    unknown: list[str] = []

    def put(name: str, ref: TensorRef) -> None:
        if name in mapped:
            raise ModelError(f"{ref.file.name}: two tensors map to {name!r}")
        mapped[name] = ref

    for name, ref in tensors.items():
        if name in _RENAMES:
            put(_RENAMES[name], ref)
            continue
        if name.startswith("language_model.model."):
            put("model.language_model." + name[len("language_model.model.") :], ref)
            continue
        match = _VISION_LAYER.match(name)
        if match:
            layer, part = match.groups()
            prefix = f"model.vision_tower.encoder.layer.{layer}."
            if part in ("attn.qkv.weight", "attn.qkv.bias"):
                suffix = part.rsplit(".", 1)[1]
                for index, proj in enumerate(("q_proj", "k_proj", "v_proj")):
                    put(f"{prefix}attention.{proj}.{suffix}", ref.split_first_axis(3, index))
                continue
            if part in _VISION_LAYER_PARTS:
                put(prefix + _VISION_LAYER_PARTS[part], ref)
                continue
        unknown.append(f"{name} (in {ref.file.name})")
    if unknown:
        raise ModelError(
            f"unexpected tensors in the checkpoint: {', '.join(unknown[:5])}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""),
            hint="this does not look like an ArtiMuse / InternVL3 (InternViT + Qwen2) checkpoint",
        )
    return mapped


def expected_native_shapes(native: dict[str, Any]) -> tuple[dict[str, tuple[int, ...]], set[str]]:
    """Every tensor the native model needs with its shape, and the names that may be absent (tied lm_head)."""
    v, t = native["vision_config"], native["text_config"]
    h, vi, layers = int(v["hidden_size"]), int(v["intermediate_size"]), int(v["num_hidden_layers"])
    image, patch = square_side(v.get("image_size", 448)), square_side(v.get("patch_size", 14))
    channels = int(v.get("num_channels", 3))
    num_patches = (image // patch) ** 2
    shapes: dict[str, tuple[int, ...]] = {
        "model.vision_tower.embeddings.cls_token": (1, 1, h),
        "model.vision_tower.embeddings.position_embeddings": (1, num_patches + 1, h),
        "model.vision_tower.embeddings.patch_embeddings.projection.weight": (h, channels, patch, patch),
        "model.vision_tower.embeddings.patch_embeddings.projection.bias": (h,),
    }
    layer_norm = v.get("norm_type", "layer_norm") == "layer_norm"
    for i in range(layers):
        p = f"model.vision_tower.encoder.layer.{i}."
        for proj in ("q_proj", "k_proj", "v_proj"):
            shapes[f"{p}attention.{proj}.weight"] = (h, h)
            if v.get("attention_bias", False):
                shapes[f"{p}attention.{proj}.bias"] = (h,)
        shapes[f"{p}attention.projection_layer.weight"] = (h, h)
        shapes[f"{p}attention.projection_layer.bias"] = (h,)
        if v.get("use_qk_norm", False):
            shapes[f"{p}attention.q_norm.weight"] = (h,)
            shapes[f"{p}attention.k_norm.weight"] = (h,)
        shapes[f"{p}mlp.fc1.weight"] = (vi, h)
        shapes[f"{p}mlp.fc1.bias"] = (vi,)
        shapes[f"{p}mlp.fc2.weight"] = (h, vi)
        shapes[f"{p}mlp.fc2.bias"] = (h,)
        for norm in ("layernorm_before", "layernorm_after"):
            shapes[f"{p}{norm}.weight"] = (h,)
            if layer_norm:
                shapes[f"{p}{norm}.bias"] = (h,)
        shapes[f"{p}lambda_1"] = (h,)
        shapes[f"{p}lambda_2"] = (h,)
    if not v.get("use_mean_pooling", True):
        shapes["model.vision_tower.layernorm.weight"] = (h,)
        shapes["model.vision_tower.layernorm.bias"] = (h,)
    big_h = int(t["hidden_size"])
    shuffled = h * round(1 / float(native.get("downsample_ratio", 0.5))) ** 2
    shapes.update(
        {
            "model.multi_modal_projector.layer_norm.weight": (shuffled,),
            "model.multi_modal_projector.layer_norm.bias": (shuffled,),
            "model.multi_modal_projector.linear_1.weight": (big_h, shuffled),
            "model.multi_modal_projector.linear_1.bias": (big_h,),
            "model.multi_modal_projector.linear_2.weight": (big_h, big_h),
            "model.multi_modal_projector.linear_2.bias": (big_h,),
        }
    )
    vocab, ti, heads = int(t["vocab_size"]), int(t["intermediate_size"]), int(t["num_attention_heads"])
    kv = int(t.get("num_key_value_heads") or heads)
    head_dim = int(t.get("head_dim") or big_h // heads)
    shapes["model.language_model.embed_tokens.weight"] = (vocab, big_h)
    shapes["model.language_model.norm.weight"] = (big_h,)
    shapes["lm_head.weight"] = (vocab, big_h)
    for i in range(int(t["num_hidden_layers"])):
        p = f"model.language_model.layers.{i}."
        shapes[f"{p}self_attn.q_proj.weight"] = (heads * head_dim, big_h)
        shapes[f"{p}self_attn.q_proj.bias"] = (heads * head_dim,)
        shapes[f"{p}self_attn.k_proj.weight"] = (kv * head_dim, big_h)
        shapes[f"{p}self_attn.k_proj.bias"] = (kv * head_dim,)
        shapes[f"{p}self_attn.v_proj.weight"] = (kv * head_dim, big_h)
        shapes[f"{p}self_attn.v_proj.bias"] = (kv * head_dim,)
        shapes[f"{p}self_attn.o_proj.weight"] = (big_h, heads * head_dim)
        shapes[f"{p}mlp.gate_proj.weight"] = (ti, big_h)
        shapes[f"{p}mlp.up_proj.weight"] = (ti, big_h)
        shapes[f"{p}mlp.down_proj.weight"] = (big_h, ti)
        shapes[f"{p}input_layernorm.weight"] = (big_h,)
        shapes[f"{p}post_attention_layernorm.weight"] = (big_h,)
    optional = {"lm_head.weight"} if native.get("tie_word_embeddings") or t.get("tie_word_embeddings") else set()
    return shapes, optional


def validate_tensors(tensors: dict[str, TensorRef], native: dict[str, Any], folder: Path) -> None:
    """Every expected tensor present with its shape, nothing unexpected; the message lists what is wrong."""
    shapes, optional = expected_native_shapes(native)
    problems: list[str] = []
    missing = [name for name in shapes if name not in tensors and name not in optional]
    if missing:
        problems.append(
            f"{len(missing)} tensor(s) missing: {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else "")
        )
    unexpected = [f"{n} (in {r.file.name})" for n, r in tensors.items() if n not in shapes]
    if unexpected:
        problems.append(
            f"{len(unexpected)} unexpected tensor(s): {', '.join(unexpected[:5])}"
            + (" ..." if len(unexpected) > 5 else "")
        )
    wrong = [
        f"{name} in {ref.file.name} has shape {list(ref.shape)}, config.json implies {list(shapes[name])}"
        for name, ref in tensors.items()
        if name in shapes and tuple(ref.shape) != shapes[name]
    ]
    if wrong:
        problems.append(
            f"{len(wrong)} shape mismatch(es): " + "; ".join(wrong[:5]) + (" ..." if len(wrong) > 5 else "")
        )
    floats = {"F32", "F16", "BF16"}
    odd = sorted({ref.dtype for ref in tensors.values()} - floats)
    if odd:
        problems.append(f"unsupported weight dtype(s) {', '.join(odd)} (expected float32/float16/bfloat16)")
    if problems:
        raise ModelError(f"{folder}: the weights do not match config.json: " + " | ".join(problems))
