"""Checkpoint conversion: the authors' ``InternVLChatModel`` layout -> transformers' native InternVL layout.

Conversion only renames tensors and splits InternViT's fused ``qkv`` along its first axis, which is a
contiguous byte range, so it is done as a streamed byte copy straight from one safetensors file to another:
one chunk in RAM at a time (an 8B checkpoint never needs two copies), byte-exact, and without importing torch.
Headers are parsed and every tensor's name and shape is checked against the config first, so a bad checkpoint
fails with a message naming the file and the reason before anything is written. A folder already in the native
layout is validated and re-sharded the same way. Pickled weights (``.bin``, ``.pt``...) are refused:
unpickling can run arbitrary code.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.artimuse import prompts

DTYPE_SIZES: dict[str, int] = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U64": 8,
    "U32": 4,
    "U16": 2,
    "U8": 1,
    "BOOL": 1,
}

MAX_HEADER_BYTES = 100 * 1024 * 1024
COPY_CHUNK = 64 * 1024 * 1024


@dataclass(frozen=True)
class TensorRef:
    """Where one tensor's bytes are: ``file`` from absolute offset ``start`` to ``end`` (exclusive)."""

    file: Path
    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int

    @property
    def nbytes(self) -> int:
        return self.end - self.start

    def split_first_axis(self, parts: int, index: int) -> TensorRef:
        """The ``index``-th of ``parts`` equal chunks along axis 0: a contiguous byte range (row-major)."""
        if not self.shape or self.shape[0] % parts:
            raise ModelError(
                f"{self.file.name}: cannot split a tensor of shape {list(self.shape)} into {parts} equal parts"
            )
        step = self.nbytes // parts
        shape = (self.shape[0] // parts, *self.shape[1:])
        return TensorRef(self.file, self.dtype, shape, self.start + index * step, self.start + (index + 1) * step)


def read_header(path: Path) -> dict[str, TensorRef]:
    """Parse and sanity-check one safetensors file's header; errors name the file and say what is wrong."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            raw_len = handle.read(8)
            if len(raw_len) != 8:
                raise ModelError(f"{path}: not a safetensors file (shorter than 8 bytes)")
            (header_len,) = struct.unpack("<Q", raw_len)
            if header_len > MAX_HEADER_BYTES or 8 + header_len > size:
                raise ModelError(f"{path}: not a safetensors file (header length {header_len} is impossible)")
            header_bytes = handle.read(header_len)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: not a safetensors file (header is not JSON: {exc})") from exc
    if not isinstance(header, dict):
        raise ModelError(f"{path}: not a safetensors file (header is not a JSON object)")
    data_start = 8 + header_len
    tensors: dict[str, TensorRef] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = str(info["dtype"])
            shape = tuple(int(x) for x in info["shape"])
            begin, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{path}: tensor {name!r} has a malformed header entry") from exc
        if dtype not in DTYPE_SIZES:
            raise ModelError(f"{path}: tensor {name!r} has unsupported dtype {dtype}")
        expected = math.prod(shape) * DTYPE_SIZES[dtype]
        if end - begin != expected or begin < 0 or data_start + end > size:
            raise ModelError(
                f"{path}: tensor {name!r} is truncated or corrupt "
                f"(shape {list(shape)} {dtype} needs {expected} bytes, header says {end - begin}; "
                f"file is {size} bytes)"
            )
        tensors[name] = TensorRef(path, dtype, shape, data_start + begin, data_start + end)
    return tensors


@dataclass(frozen=True)
class WrittenShard:
    path: Path
    nbytes: int
    names: tuple[str, ...]


def _header_for(items: list[tuple[str, TensorRef]], metadata: dict[str, str]) -> bytes:
    header: dict[str, object] = {"__metadata__": metadata}
    offset = 0
    for name, ref in items:
        header[name] = {
            "dtype": ref.dtype,
            "shape": list(ref.shape),
            "data_offsets": [offset, offset + ref.nbytes],
        }
        offset += ref.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # the data section starts 8-byte aligned, as the safetensors library writes it
    return struct.pack("<Q", len(raw)) + raw


def _copy_range(ref: TensorRef, out: BinaryIO, digest: hashlib._Hash, handles: dict[Path, BinaryIO]) -> None:
    source = handles.get(ref.file)
    if source is None:
        source = handles[ref.file] = ref.file.open("rb")
    source.seek(ref.start)
    remaining = ref.nbytes
    while remaining:
        chunk = source.read(min(COPY_CHUNK, remaining))
        if not chunk:
            raise ModelError(f"{ref.file}: file ended early (truncated download?)")
        out.write(chunk)
        digest.update(chunk)
        remaining -= len(chunk)


def plan_shards(items: list[tuple[str, TensorRef]], max_shard_bytes: int) -> list[list[tuple[str, TensorRef]]]:
    """Group tensors, in order, into shards of at most ``max_shard_bytes`` (a bigger tensor gets its own)."""
    shards: list[list[tuple[str, TensorRef]]] = [[]]
    size = 0
    for item in items:
        if shards[-1] and size + item[1].nbytes > max_shard_bytes:
            shards.append([])
            size = 0
        shards[-1].append(item)
        size += item[1].nbytes
    return shards


def write_shards(
    items: Iterable[tuple[str, TensorRef]],
    folder: Path,
    max_shard_bytes: int,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[WrittenShard], str]:
    """Stream the tensors into ``model.safetensors`` (or shards plus an index); returns (shards, sha256).

    The sha256 covers the bytes written, shard after shard, so it identifies exactly the weights the app runs
    (for a single shard it is the file's own sha256).
    """
    ordered = list(items)
    groups = plan_shards(ordered, max_shard_bytes)
    total = sum(ref.nbytes for _, ref in ordered)
    done = 0
    digest = hashlib.sha256()
    handles: dict[Path, BinaryIO] = {}
    written: list[WrittenShard] = []
    try:
        for number, group in enumerate(groups, start=1):
            name = "model.safetensors" if len(groups) == 1 else f"model-{number:05d}-of-{len(groups):05d}.safetensors"
            path = folder / name
            with path.open("wb") as out:
                header = _header_for(group, {"format": "pt"})
                out.write(header)
                digest.update(header)
                for _, ref in group:
                    _copy_range(ref, out, digest, handles)
                    done += ref.nbytes
                    if progress is not None:
                        progress(done, total)
                out.flush()
                os.fsync(out.fileno())
            written.append(WrittenShard(path, sum(ref.nbytes for _, ref in group), tuple(n for n, _ in group)))
    finally:
        for handle in handles.values():
            handle.close()
    if len(written) > 1:
        index = {
            "metadata": {"total_size": total},
            "weight_map": {n: shard.path.name for shard in written for n in shard.names},
        }
        (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2), encoding="utf-8")
    return written, digest.hexdigest()


def sha256_of_shards(folder: Path) -> str:
    """Recompute the checksum ``write_shards`` returned, from the files on disk (integrity check)."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        files = sorted(set(weight_map.values()))
    else:
        files = ["model.safetensors"]
    digest = hashlib.sha256()
    for name in files:
        with (folder / name).open("rb") as handle:
            while chunk := handle.read(COPY_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------------------
# Checkpoint inspection and conversion
# ------------------------------------------------------------------------------------------------------------

LAYOUT_ORIGINAL = "internvl_chat"
LAYOUT_NATIVE = "internvl"
SIDECAR_NAME = "artimuse.json"
SIDECAR_FORMAT = 1
DEFAULT_MAX_SHARD_BYTES = 4 * 1024**3

PICKLE_SUFFIXES: tuple[str, ...] = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
TOKENIZER_FILES: tuple[str, ...] = (
    "tokenizer.json",
    "vocab.json",
    "merges.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
)
SUPPORTED_LLMS: tuple[str, ...] = ("Qwen2ForCausalLM",)


@dataclass
class TokenizerInfo:
    """Token ids read from the tokenizer's JSON files (no tokenizer library needed)."""

    vocab: dict[str, int]
    added: dict[str, int]
    special: set[str] = field(default_factory=set)  # the slow tokenizer's all_special_tokens

    def token_id(self, token: str) -> int | None:
        if token in self.added:
            return self.added[token]
        return self.vocab.get(token)


@dataclass
class SourceCheckpoint:
    """A checkpoint folder as found on disk, parsed and validated; nothing has been written yet."""

    folder: Path
    layout: str
    source_config: dict[str, Any]
    native_config: dict[str, Any]
    sidecar: dict[str, Any]
    tensors: dict[str, TensorRef]  # native names -> bytes in the source files
    weight_files: list[Path]
    tokenizer_files: list[Path]
    ignored_files: list[str] = field(default_factory=list)

    @property
    def num_parameters(self) -> int:
        return sum(math.prod(ref.shape) for ref in self.tensors.values())

    @property
    def weights_bytes(self) -> int:
        return sum(ref.nbytes for ref in self.tensors.values())


@dataclass(frozen=True)
class ConversionResult:
    layout: str
    checksum: str
    size: int
    num_parameters: int
    shards: int


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: file is missing") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: cannot read as JSON ({exc})") from exc


def _require(mapping: dict[str, Any], key: str, where: str) -> Any:
    if key not in mapping or mapping[key] is None:
        raise ModelError(f"{where}: required key {key!r} is missing")
    return mapping[key]


def find_weight_files(folder: Path) -> list[Path]:
    """The safetensors files holding the weights; pickled weights are refused with the reason."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        weight_map = _read_json(index).get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise ModelError(f"{index}: has no 'weight_map'")
        files = [folder / name for name in sorted(set(weight_map.values()))]
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            raise ModelError(
                f"{folder}: weight shard(s) listed in model.safetensors.index.json are missing: {', '.join(missing)}",
                hint="the download is incomplete; run the download again (it resumes)",
            )
        return files
    files = sorted(p for p in folder.glob("*.safetensors") if p.is_file())
    if files:
        return files
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise ModelError(
            f"{folder}: only pickled weights found ({', '.join(pickles)}); refusing to load them, because "
            "unpickling a file can run arbitrary code",
            hint="use a checkpoint with .safetensors weights (the ArtiMuse checkpoints on the Hugging Face "
            "Hub have them), or convert it to safetensors yourself in a trusted environment",
        )
    raise ModelError(f"{folder}: no weights found (expected model.safetensors or model.safetensors.index.json)")


def read_tensors(files: Iterable[Path]) -> dict[str, TensorRef]:
    tensors: dict[str, TensorRef] = {}
    for path in files:
        for name, ref in read_header(path).items():
            if name in tensors:
                raise ModelError(f"{path}: tensor {name!r} is also in {tensors[name].file.name}")
            tensors[name] = ref
    return tensors


def read_tokenizer(folder: Path) -> tuple[TokenizerInfo, list[Path]]:
    """Read vocab and added tokens; errors name the missing file."""
    config_path = folder / "tokenizer_config.json"
    if not config_path.is_file():
        raise ModelError(f"{folder}: tokenizer_config.json is missing (the tokenizer cannot be built)")
    tokenizer_json = folder / "tokenizer.json"
    vocab_json, merges = folder / "vocab.json", folder / "merges.txt"
    added: dict[str, int] = {}
    vocab: dict[str, int]
    if tokenizer_json.is_file():
        data = _read_json(tokenizer_json)
        vocab = dict(data.get("model", {}).get("vocab", {}))
        for item in data.get("added_tokens", []):
            added[str(item["content"])] = int(item["id"])
    elif vocab_json.is_file() and merges.is_file():
        vocab = dict(_read_json(vocab_json))
    else:
        missing = [p.name for p in (vocab_json, merges) if not p.is_file()]
        raise ModelError(
            f"{folder}: tokenizer files are missing: {', '.join(missing)} (or tokenizer.json)",
        )
    config = _read_json(config_path)
    for token_id, item in (config.get("added_tokens_decoder") or {}).items():
        added.setdefault(str(item["content"]), int(token_id))
    added_json = folder / "added_tokens.json"
    if added_json.is_file():
        for content, token_id in _read_json(added_json).items():
            added.setdefault(str(content), int(token_id))
    special = _special_tokens(config)
    special_map = folder / "special_tokens_map.json"
    if special_map.is_file():
        special |= _special_tokens(_read_json(special_map))
    files = [folder / name for name in TOKENIZER_FILES if (folder / name).is_file()]
    return TokenizerInfo(vocab=vocab, added=added, special=special), files


_SPECIAL_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def _special_tokens(config: dict[str, Any]) -> set[str]:
    """What a slow tokenizer counts as special (and drops with ``skip_special_tokens``): the named tokens plus
    ``additional_special_tokens``. Other added tokens (``<quad>``, ``<box>``...) stay in decoded text."""

    def content(value: Any) -> str | None:
        if isinstance(value, dict):
            value = value.get("content")
        return value if isinstance(value, str) else None

    names = [content(config.get(key)) for key in _SPECIAL_KEYS]
    names += [content(v) for v in config.get("additional_special_tokens") or []]
    return {name for name in names if name}


def _side(value: Any) -> int:
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
    computed = int((_side(v.get("image_size", 448)) // _side(v.get("patch_size", 14))) ** 2 * ratio**2)
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
        "image_size": _side(native["vision_config"].get("image_size", 448)),
        "image_token_id": ids[prompts.IMG_CONTEXT_TOKEN],
        "eos_token_id": ids[prompts.IM_END],
        "aesthetic_token_ids": aesthetic_ids,
        "dropped_token_ids": dropped,
    }


def native_config_from_original(source: dict[str, Any], image_token_id: int) -> dict[str, Any]:
    """Map ``InternVLChatConfig`` to ``InternVLConfig`` key by key (a wrong default fails silently)."""
    where = "config.json"
    vision = _require(source, "vision_config", where)
    llm = _require(source, "llm_config", where)
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
    image_size = int(source.get("force_image_size") or _require(vision, "image_size", vwhere))
    if int(vision.get("image_size", image_size)) != image_size:
        raise ModelError(
            f"{where}: force_image_size {image_size} differs from vision_config.image_size "
            f"{vision.get('image_size')}; resized position embeddings are not supported"
        )
    patch = int(_require(vision, "patch_size", vwhere))
    ratio = float(source.get("downsample_ratio", 0.5))
    num_image_token = int((image_size // patch) ** 2 * ratio**2)
    select_layer = int(source.get("select_layer", -1))
    vision_config = {
        "model_type": "internvl_vision",
        "hidden_size": int(_require(vision, "hidden_size", vwhere)),
        "num_hidden_layers": int(_require(vision, "num_hidden_layers", vwhere)),
        "num_attention_heads": int(_require(vision, "num_attention_heads", vwhere)),
        "intermediate_size": int(_require(vision, "intermediate_size", vwhere)),
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
        "vocab_size": int(_require(llm, "vocab_size", lwhere)),
        "hidden_size": int(_require(llm, "hidden_size", lwhere)),
        "intermediate_size": int(_require(llm, "intermediate_size", lwhere)),
        "num_hidden_layers": int(_require(llm, "num_hidden_layers", lwhere)),
        "num_attention_heads": int(_require(llm, "num_attention_heads", lwhere)),
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
    image, patch = _side(v.get("image_size", 448)), _side(v.get("patch_size", 14))
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


def inspect_checkpoint(folder: str | Path) -> SourceCheckpoint:
    """Find, parse and validate a checkpoint folder in either layout, reading only headers and JSON."""
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise ModelError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise ModelError(f"{folder}: not a folder (give the checkpoint folder, with config.json)")
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelError(f"{folder}: config.json is missing; this is not a model checkpoint folder")
    source = _read_json(config_path)
    if not isinstance(source, dict):
        raise ModelError(f"{config_path}: not a JSON object")
    layout = source.get("model_type")
    weight_files = find_weight_files(folder)
    tokenizer, tokenizer_files = read_tokenizer(folder)
    image_token_id = tokenizer.token_id(prompts.IMG_CONTEXT_TOKEN)
    if image_token_id is None:
        raise ModelError(f"{folder}: the tokenizer has no {prompts.IMG_CONTEXT_TOKEN} token")
    raw = read_tensors(weight_files)
    if layout == LAYOUT_ORIGINAL:
        native = native_config_from_original(source, image_token_id)
        tensors = map_original_tensors(raw)
    elif layout == LAYOUT_NATIVE:
        native = dict(source)
        for key in ("vision_config", "text_config"):
            _require(native, key, str(config_path))
        if int(native.get("image_token_id", -1)) != image_token_id:
            raise ModelError(
                f"{config_path}: image_token_id {native.get('image_token_id')} is not the tokenizer's "
                f"{prompts.IMG_CONTEXT_TOKEN} id {image_token_id}"
            )
        native.pop("auto_map", None)
        tensors = raw
    else:
        raise ModelError(
            f"{config_path}: model_type {layout!r} is not an ArtiMuse / InternVL checkpoint "
            f"(expected {LAYOUT_ORIGINAL!r} or {LAYOUT_NATIVE!r})"
        )
    validate_tensors(tensors, native, folder)
    sidecar = build_sidecar(tokenizer, native, source, layout)
    existing = folder / SIDECAR_NAME
    if layout == LAYOUT_NATIVE and existing.is_file():
        # A folder this app converted earlier: keep its recorded prompt settings (template, system message).
        previous = _read_json(existing)
        for key in ("template", "system_message", "source_layout"):
            if key in previous:
                sidecar[key] = previous[key]
    vocab_size = int(native["text_config"]["vocab_size"])
    too_big = [t for t in sidecar["aesthetic_token_ids"] + [image_token_id] if t >= vocab_size]
    if too_big:
        raise ModelError(f"{folder}: token ids {too_big[:3]} are outside the model's vocabulary ({vocab_size})")
    sidecar["num_parameters"] = sum(math.prod(ref.shape) for ref in tensors.values())
    ignored = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
    return SourceCheckpoint(
        folder=folder,
        layout=str(layout),
        source_config=source,
        native_config=native,
        sidecar=sidecar,
        tensors=tensors,
        weight_files=weight_files,
        tokenizer_files=tokenizer_files,
        ignored_files=ignored,
    )


def _tensor_order(name: str) -> tuple[int, int, str]:
    """Vision tower, projector, then the LLM layer by layer: shards hold whole layers in load order."""
    numbers = re.findall(r"\.(\d+)\.", name)
    layer = int(numbers[0]) if numbers else -1
    if name.startswith("model.vision_tower."):
        part = 0
    elif name.startswith("model.multi_modal_projector."):
        part = 1
    elif name.startswith("model.language_model.embed_tokens"):
        part = 2
    elif name.startswith("model.language_model.layers."):
        part = 3
    else:
        part = 4
    return part, layer, name


def convert_checkpoint(
    source: SourceCheckpoint | str | Path,
    dest: Path,
    progress: Callable[[int, int], None] | None = None,
    max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES,
) -> ConversionResult:
    """Write the native checkpoint into the empty folder ``dest``: shards, config.json, tokenizer, sidecar."""
    checkpoint = source if isinstance(source, SourceCheckpoint) else inspect_checkpoint(source)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ModelError(f"{dest}: conversion target is not empty")
    free = shutil.disk_usage(dest).free
    if free < checkpoint.weights_bytes + 64 * 1024**2:
        raise ModelError(
            f"{dest}: not enough disk space: the converted weights need {_gb(checkpoint.weights_bytes)}, "
            f"{_gb(free)} free"
        )
    items = sorted(checkpoint.tensors.items(), key=lambda item: _tensor_order(item[0]))
    shards, checksum = write_shards(items, dest, max_shard_bytes, progress)
    (dest / "config.json").write_text(json.dumps(checkpoint.native_config, indent=2) + "\n", encoding="utf-8")
    for path in checkpoint.tokenizer_files:
        if path.name == "tokenizer_config.json":
            config = _read_json(path)
            config.pop("auto_map", None)  # never let a tokenizer pull in remote code
            (dest / path.name).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        else:
            shutil.copyfile(path, dest / path.name)
    sidecar = dict(checkpoint.sidecar, checksum=checksum)
    (dest / SIDECAR_NAME).write_text(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return ConversionResult(
        layout=checkpoint.layout,
        checksum=checksum,
        size=checkpoint.weights_bytes,
        num_parameters=checkpoint.num_parameters,
        shards=len(shards),
    )


def _gb(nbytes: int) -> str:
    return f"{nbytes / 1e9:.1f} GB"
