"""Config mapping: ``InternVLChatConfig`` -> ``InternVLConfig``, and the sidecar of token ids and prompt settings.

Every key is mapped explicitly and every unsupported option is refused with its name, because a wrong default
does not fail: it silently gives a different model.
"""

from __future__ import annotations

from typing import Any

from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.artimuse import prompts
from artimuse_desktop.scoring.artimuse.convert.checkpoint_files import TokenizerInfo

SIDECAR_FORMAT = 1
SUPPORTED_LLMS: tuple[str, ...] = ("Qwen2ForCausalLM",)


def require_key(mapping: dict[str, Any], key: str, where: str) -> Any:
    """``mapping[key]``, or a ModelError saying where it is missing."""
    if key not in mapping or mapping[key] is None:
        raise ModelError(f"{where}: required key {key!r} is missing")
    return mapping[key]


def square_side(value: Any) -> int:
    """A square size as configs write it: ``448`` or ``[448, 448]``."""
    if isinstance(value, list | tuple):
        if len(set(value)) != 1:
            raise ModelError(f"config.json: non-square size {value} is not supported")
        return int(value[0])
    return int(value)


def num_image_tokens(native: dict[str, Any]) -> int:
    """Image tokens per tile: (image / patch)^2 * downsample^2, which must agree with ``image_seq_length``."""
    v = native["vision_config"]
    ratio = float(native.get("downsample_ratio", 0.5))
    computed = int((square_side(v.get("image_size", 448)) // square_side(v.get("patch_size", 14))) ** 2 * ratio**2)
    declared = native.get("image_seq_length")
    if declared is not None and int(declared) != computed:
        raise ModelError(
            f"config.json: image_seq_length {declared} does not match the vision config ({computed} tokens)"
        )
    return computed


def build_sidecar(
    tokenizer: TokenizerInfo, native: dict[str, Any], source: dict[str, Any], layout: str
) -> dict[str, Any]:
    """Token ids and prompt settings the app needs, checked now so a bad tokenizer fails at ``models add``."""
    where = "tokenizer"
    ids: dict[str, int] = {}
    for token in (
        prompts.IMG_CONTEXT_TOKEN,
        prompts.IMG_START_TOKEN,
        prompts.IMG_END_TOKEN,
        prompts.IM_START,
        prompts.IM_END,
    ):
        token_id = tokenizer.token_id(token)
        if token_id is None:
            raise ModelError(f"{where}: special token {token} is missing; this is not an InternVL tokenizer")
        ids[token] = token_id
    aesthetic_ids = []
    missing = []
    for token in prompts.AESTHETIC_TOKENS:
        token_id = tokenizer.vocab.get(token)
        if token_id is None:
            missing.append(token)
        else:
            aesthetic_ids.append(token_id)
    if missing:
        raise ModelError(
            f"{where}: the score tokens {', '.join(missing[:8])} are not single vocabulary tokens; "
            "Token-As-Score needs all 101 (aa..ey) in the vocabulary"
        )
    special_ids = (tokenizer.token_id(t) for t in tokenizer.special or prompts.DROPPED_SPECIAL_TOKENS)
    dropped = sorted({i for i in special_ids if i is not None})
    template = source.get("template", prompts.TEMPLATE_NAME)
    if template != prompts.TEMPLATE_NAME:
        raise ModelError(
            f"config.json: template {template!r} is not supported (ArtiMuse uses {prompts.TEMPLATE_NAME!r})"
        )
    system_message = source.get("system_message")
    if system_message is not None and not isinstance(system_message, str):
        raise ModelError("config.json: 'system_message' is not a string")
    return {
        "format": SIDECAR_FORMAT,
        "source_layout": layout,
        "template": template,
        "system_message": system_message,  # None: the template's default (prompts.SYSTEM_MESSAGE)
        "num_image_token": num_image_tokens(native),
        "image_size": square_side(native["vision_config"].get("image_size", 448)),
        "image_token_id": ids[prompts.IMG_CONTEXT_TOKEN],
        "eos_token_id": ids[prompts.IM_END],
        "aesthetic_token_ids": aesthetic_ids,
        "dropped_token_ids": dropped,
    }


def native_config_from_original(source: dict[str, Any], image_token_id: int) -> dict[str, Any]:
    """Map ``InternVLChatConfig`` to ``InternVLConfig`` key by key (a wrong default fails silently)."""
    where = "config.json"
    vision = require_key(source, "vision_config", where)
    llm = require_key(source, "llm_config", where)
    vwhere, lwhere = f"{where} vision_config", f"{where} llm_config"
    architectures = llm.get("architectures") or ["?"]
    if architectures[0] not in SUPPORTED_LLMS:
        raise ModelError(
            f"{lwhere}: language model {architectures[0]!r} is not supported (ArtiMuse uses Qwen2ForCausalLM)"
        )
    ps_version = source.get("ps_version", "v1")
    if ps_version != "v2":
        raise ModelError(f"{where}: ps_version {ps_version!r} is not supported (only 'v2', as in InternVL3)")
    if vision.get("hidden_act", "gelu") != "gelu":
        raise ModelError(f"{vwhere}: hidden_act {vision.get('hidden_act')!r} is not supported (only 'gelu')")
    if vision.get("use_moe"):
        raise ModelError(f"{vwhere}: mixture-of-experts vision towers are not supported")
    image_size = int(source.get("force_image_size") or require_key(vision, "image_size", vwhere))
    if int(vision.get("image_size", image_size)) != image_size:
        raise ModelError(
            f"{where}: force_image_size {image_size} differs from vision_config.image_size "
            f"{vision.get('image_size')}; resized position embeddings are not supported"
        )
    patch = int(require_key(vision, "patch_size", vwhere))
    ratio = float(source.get("downsample_ratio", 0.5))
    num_image_token = int((image_size // patch) ** 2 * ratio**2)
    select_layer = int(source.get("select_layer", -1))
    vision_config = {
        "model_type": "internvl_vision",
        "hidden_size": int(require_key(vision, "hidden_size", vwhere)),
        "num_hidden_layers": int(require_key(vision, "num_hidden_layers", vwhere)),
        "num_attention_heads": int(require_key(vision, "num_attention_heads", vwhere)),
        "intermediate_size": int(require_key(vision, "intermediate_size", vwhere)),
        # qkv_bias -> attention_bias: the default False would silently drop the q/k/v biases.
        "attention_bias": bool(vision.get("qkv_bias", True)),
        "use_qk_norm": bool(vision.get("qk_normalization", False)),
        "hidden_act": "gelu",
        "norm_type": str(vision.get("norm_type", "rms_norm")),
        "layer_norm_eps": float(vision.get("layer_norm_eps", 1e-6)),
        "image_size": [image_size, image_size],
        "patch_size": [patch, patch],
        "num_channels": int(vision.get("num_channels", 3)),
        # True keeps the encoder output as is; False would add a final LayerNorm the checkpoint does not have.
        "use_mean_pooling": True,
        "use_absolute_position_embeddings": True,
        "use_mask_token": False,
        "hidden_dropout_prob": 0.0,
        "attention_dropout": 0.0,
        "projection_dropout": 0.0,
    }
    if vision_config["norm_type"] not in ("layer_norm", "rms_norm"):
        raise ModelError(f"{vwhere}: norm_type {vision_config['norm_type']!r} is not supported")
    tie = bool(llm.get("tie_word_embeddings", False))
    text_config: dict[str, Any] = {
        "model_type": "qwen2",
        "vocab_size": int(require_key(llm, "vocab_size", lwhere)),
        "hidden_size": int(require_key(llm, "hidden_size", lwhere)),
        "intermediate_size": int(require_key(llm, "intermediate_size", lwhere)),
        "num_hidden_layers": int(require_key(llm, "num_hidden_layers", lwhere)),
        "num_attention_heads": int(require_key(llm, "num_attention_heads", lwhere)),
        "num_key_value_heads": int(llm.get("num_key_value_heads") or llm["num_attention_heads"]),
        "hidden_act": str(llm.get("hidden_act", "silu")),
        "max_position_embeddings": int(llm.get("max_position_embeddings", 32768)),
        "rms_norm_eps": float(llm.get("rms_norm_eps", 1e-6)),
        # The authors' Qwen2 (transformers 4.37) ignores rope_scaling; dynamic NTK would only act beyond
        # max_position_embeddings anyway. Plain RoPE reproduces their model exactly.
        "rope_parameters": {"rope_type": "default", "rope_theta": float(llm.get("rope_theta", 1e6))},
        "use_sliding_window": bool(llm.get("use_sliding_window", False)),
        "sliding_window": llm.get("sliding_window") if llm.get("use_sliding_window") else None,
        "max_window_layers": int(llm.get("max_window_layers", 28)),
        "attention_dropout": 0.0,
        "tie_word_embeddings": tie,
        "use_cache": True,
    }
    if llm.get("head_dim"):
        text_config["head_dim"] = int(llm["head_dim"])
    dtype = source.get("torch_dtype") or llm.get("torch_dtype") or "bfloat16"
    return {
        "model_type": "internvl",
        "architectures": ["InternVLForConditionalGeneration"],
        "vision_config": vision_config,
        "text_config": text_config,
        "image_token_id": image_token_id,
        "image_seq_length": num_image_token,
        "downsample_ratio": ratio,
        # erf GELU, as the authors' nn.GELU(); the tanh approximation misses the reference.
        "projector_hidden_act": "gelu",
        "vision_feature_layer": select_layer,
        "vision_feature_select_strategy": "default",  # drops the class token
        "tie_word_embeddings": tie,
        "dtype": dtype,
    }
