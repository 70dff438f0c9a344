"""Checks on an untrusted checkpoint, all done before anything is allocated or loaded.

A checkpoint folder is input from elsewhere: its JSON may be nested a million deep, its numbers may be strings,
floats or absurd sizes (``num_hidden_layers: 1e6`` used to build a 2.6 GB table of expected tensors before it
was refused), and its files may be links to anywhere. Each problem is a ``CheckpointError`` naming the file and
the key; the safetensors header checks live beside the header parser (``safetensors_io``).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from artimuse_desktop.errors import ModelError

MAX_JSON_BYTES = 64 * 1024**2  # tokenizer.json of Qwen2 is ~7 MB
MAX_JSON_DEPTH = 64  # real configs nest 4 deep; tokenizer.json about 6
MAX_LAYERS = 512
MAX_HIDDEN = 65_536
MAX_INTERMEDIATE = 4 * MAX_HIDDEN
MAX_HEADS = 1_024
MAX_VOCAB = 1_000_000
MAX_IMAGE_SIDE = 8_192
MAX_POSITIONS = 16 * 1024**2

HINT = (
    "this checkpoint is damaged or is not an ArtiMuse / InternVL3 checkpoint; download it again from its "
    "original source (nothing was installed)"
)


class CheckpointError(ModelError):
    """A checkpoint is refused before anything is loaded; the message names the file and the key or tensor."""

    def __init__(self, message: str, hint: str | None = HINT) -> None:
        super().__init__(message, hint)


# ------------------------------------------------------------------------------------------------ files


def confine(path: Path, folder: Path) -> Path:
    """``path`` when it resolves inside ``folder`` (a link within the folder is fine); refused otherwise."""
    try:
        real = path.resolve(strict=False)
        base = folder.resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise CheckpointError(f"{path}: cannot resolve the path ({exc})") from exc
    if not real.is_relative_to(base):
        raise CheckpointError(
            f"{path}: points outside the model folder {folder} (to {real}); refused",
            hint="copy the real file into the model folder instead of linking to it",
        )
    return path


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed JSON value (iterative: no recursion to exhaust)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def parse_json(raw: bytes | str, where: str) -> Any:
    """JSON text parsed with a nesting limit; a CheckpointError naming ``where`` when it is not usable."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError as exc:
        raise CheckpointError(f"{where}: JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(f"{where}: not valid JSON ({exc})") from exc
    if _depth(value) > MAX_JSON_DEPTH:
        raise CheckpointError(f"{where}: JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def read_json_file(path: Path) -> Any:
    """A checkpoint's JSON file: a regular file inside its folder, of sane size, with sane nesting."""
    confine(path, path.parent)
    try:
        stat = path.stat()
        if not os.path.isfile(path):
            raise CheckpointError(f"{path}: not a regular file")
        if stat.st_size > MAX_JSON_BYTES:
            raise CheckpointError(f"{path}: {stat.st_size} bytes is too large for a JSON file of a checkpoint")
        with path.open("rb") as handle:
            raw = handle.read(stat.st_size + 1)  # bounded by the size checked above, not preallocated large
    except FileNotFoundError as exc:
        raise CheckpointError(f"{path}: file is missing") from exc
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return parse_json(raw, str(path))


# ------------------------------------------------------------------------------------------------ config


class _Section:
    """One object of a config (``llm_config``...), with typed, range-checked reads that name file and key."""

    def __init__(self, data: Any, file: str, name: str) -> None:
        self.file, self.name = file, name
        if not isinstance(data, dict):
            raise CheckpointError(f"{file}: {name or 'the config'} is not a JSON object")
        self.data: dict[str, Any] = data

    def key(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def refuse(self, key: str, why: str) -> CheckpointError:
        return CheckpointError(f"{self.file}: {self.key(key)} {why}")

    def integer(self, key: str, low: int, high: int, *, required: bool = False) -> int | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.refuse(key, "is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.refuse(key, f"is {_short(value)}, not a whole number")
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise self.refuse(key, f"is {_short(value)}, not a whole number")
        number = int(value)
        if not low <= number <= high:
            raise self.refuse(key, f"is {number}, outside the supported range {low}..{high}")
        return number

    def number(self, key: str, low: float, high: float) -> None:
        value = self.data.get(key)
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.refuse(key, f"is {_short(value)}, not a number")
        if not low <= value <= high:
            raise self.refuse(key, f"is {value}, outside the supported range {low}..{high}")

    def flag(self, key: str) -> None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool | int):
            raise self.refuse(key, f"is {_short(value)}, not true or false")

    def text(self, key: str) -> None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.refuse(key, f"is {_short(value)}, not a string")

    def side(self, key: str, high: int) -> int | None:
        """A square size as configs write it: ``448`` or ``[448, 448]``."""
        value = self.data.get(key)
        if isinstance(value, list):
            if not 1 <= len(value) <= 2:
                raise self.refuse(key, f"is {_short(value)}, not a size")
            sides = {_Section({key: item}, self.file, self.name).integer(key, 1, high) for item in value}
            if len(sides) != 1:
                raise self.refuse(key, f"is {_short(value)}; only square sizes are supported")
            return sides.pop()
        return self.integer(key, 1, high)

    def child(self, key: str) -> _Section:
        if key not in self.data or self.data[key] is None:
            raise self.refuse(key, "is missing")
        return _Section(self.data[key], self.file, self.key(key))


def _short(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _heads(section: _Section, hidden: str, heads: str, *, head_dim: int | None = None) -> None:
    size = section.integer(hidden, 1, MAX_HIDDEN, required=True)
    count = section.integer(heads, 1, MAX_HEADS, required=True)
    if size is not None and count is not None and head_dim is None and size % count:
        raise section.refuse(heads, f"is {count}, which does not divide {section.key(hidden)} {size}")


def _vision(section: _Section) -> None:
    _heads(section, "hidden_size", "num_attention_heads")
    section.integer("num_hidden_layers", 1, MAX_LAYERS, required=True)
    section.integer("intermediate_size", 1, MAX_INTERMEDIATE, required=True)
    image = section.side("image_size", MAX_IMAGE_SIDE)
    patch = section.side("patch_size", MAX_IMAGE_SIDE)
    if image is not None and patch is not None and patch > image:
        raise section.refuse("patch_size", f"is {patch}, larger than the image size {image}")
    section.integer("num_channels", 1, 16)
    section.number("layer_norm_eps", 0.0, 1.0)
    for key in ("qkv_bias", "qk_normalization", "attention_bias", "use_qk_norm", "use_mean_pooling"):
        section.flag(key)
    for key in ("hidden_act", "norm_type"):
        section.text(key)


def _language(section: _Section) -> None:
    section.integer("vocab_size", 1, MAX_VOCAB, required=True)
    head_dim = section.integer("head_dim", 1, 4_096)
    _heads(section, "hidden_size", "num_attention_heads", head_dim=head_dim)
    section.integer("intermediate_size", 1, MAX_INTERMEDIATE, required=True)
    section.integer("num_hidden_layers", 1, MAX_LAYERS, required=True)
    heads = int(section.data["num_attention_heads"])
    kv = section.integer("num_key_value_heads", 1, MAX_HEADS)
    if kv is not None and heads % kv:
        raise section.refuse("num_key_value_heads", f"is {kv}, which does not divide num_attention_heads {heads}")
    section.integer("max_position_embeddings", 1, MAX_POSITIONS)
    section.integer("max_window_layers", 0, 65_536)
    section.integer("sliding_window", 0, MAX_POSITIONS)
    section.number("rms_norm_eps", 0.0, 1.0)
    section.number("rope_theta", 0.0, 1e12)
    for key in ("tie_word_embeddings", "use_sliding_window"):
        section.flag(key)
    section.text("hidden_act")
    architectures = section.data.get("architectures")
    if architectures is not None and not (
        isinstance(architectures, list) and architectures and all(isinstance(a, str) for a in architectures)
    ):
        raise section.refuse("architectures", f"is {_short(architectures)}, not a list of class names")


def _top(section: _Section) -> None:
    ratio = section.data.get("downsample_ratio")
    section.number("downsample_ratio", 1e-3, 1.0)
    if ratio is not None and not float(1 / ratio).is_integer():
        raise section.refuse("downsample_ratio", f"is {ratio}; it must be 1/N (0.5 in InternVL3)")
    section.integer("select_layer", -MAX_LAYERS, MAX_LAYERS)
    section.integer("vision_feature_layer", -MAX_LAYERS, MAX_LAYERS)
    section.integer("force_image_size", 1, MAX_IMAGE_SIDE)
    section.integer("image_seq_length", 1, 1_048_576)
    section.integer("image_token_id", 0, MAX_VOCAB)
    section.flag("tie_word_embeddings")
    for key in ("model_type", "ps_version", "template", "system_message", "torch_dtype"):
        section.text(key)


def check_config(config: Any, file: str | Path) -> None:
    """Refuse a config.json whose values are of the wrong type or out of range, naming the key.

    Runs before the config is mapped or any tensor table is built, so nothing depends on its sizes yet.
    Both layouts: the authors' (``vision_config`` + ``llm_config``) and the native (``text_config``).
    """
    top = _Section(config, str(file), "")
    _top(top)
    _vision(top.child("vision_config"))
    language = "llm_config" if config.get("model_type") != "internvl" else "text_config"
    _language(top.child(language))
