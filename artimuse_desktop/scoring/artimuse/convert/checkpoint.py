"""Checkpoint inspection and conversion: the steps in order, each done by its own module.

Everything is read and validated first (headers and JSON only, with the limits of ``checks``), so a bad
checkpoint fails with a message naming the file and the reason before anything is allocated or written. A
folder already in the native layout is validated and re-sharded the same way.

The weights are streamed tensor by tensor (``safetensors_io``: no tensor, let alone the model, is ever held in
memory), after a free-disk check against the exact size of the output; a disk that fills up anyway (another
program writing) fails with a message naming the folder, and what was written is removed.
"""

from __future__ import annotations

import errno
import json
import math
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.artimuse import prompts
from artimuse_desktop.scoring.artimuse.convert.checkpoint_files import (
    PICKLE_SUFFIXES,
    find_weight_files,
    read_json,
    read_tokenizer,
)
from artimuse_desktop.scoring.artimuse.convert.checks import CheckpointError, check_config
from artimuse_desktop.scoring.artimuse.convert.config_mapping import (
    build_sidecar,
    native_config_from_original,
    require_key,
)
from artimuse_desktop.scoring.artimuse.convert.safetensors_io import (
    TensorRef,
    planned_bytes,
    read_tensors,
    write_shards,
)
from artimuse_desktop.scoring.artimuse.convert.tensor_mapping import map_original_tensors, validate_tensors

LAYOUT_ORIGINAL = "internvl_chat"
LAYOUT_NATIVE = "internvl"
SIDECAR_NAME = "artimuse.json"
DEFAULT_MAX_SHARD_BYTES = 4 * 1024**3
DISK_MARGIN_BYTES = 64 * 1024**2  # plus 1 % of the weights: file-system overhead, the index and configs


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
    source = read_json(config_path)
    if not isinstance(source, dict):
        raise CheckpointError(f"{config_path}: not a JSON object")
    layout = source.get("model_type")
    if layout in (LAYOUT_ORIGINAL, LAYOUT_NATIVE):
        check_config(source, config_path)  # types and ranges, before any size is used
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
            require_key(native, key, str(config_path))
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
        previous = read_json(existing)
        for key in ("template", "system_message", "source_layout"):
            if isinstance(previous, dict) and key in previous:
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


def _ordered(checkpoint: SourceCheckpoint) -> list[tuple[str, TensorRef]]:
    return sorted(checkpoint.tensors.items(), key=lambda item: _tensor_order(item[0]))


def disk_bytes_needed(checkpoint: SourceCheckpoint, max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES) -> int:
    """Free disk space a conversion needs: the shards exactly, the other files, and a margin."""
    shards = planned_bytes(_ordered(checkpoint), max_shard_bytes)
    others = sum(path.stat().st_size for path in checkpoint.tokenizer_files)
    return shards + others + DISK_MARGIN_BYTES + shards // 100


def check_disk_space(
    checkpoint: SourceCheckpoint, folder: Path, max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES
) -> None:
    """Refuse before writing anything when ``folder``'s disk cannot hold the converted model."""
    needed = disk_bytes_needed(checkpoint, max_shard_bytes)
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise ModelError(
            f"{folder}: not enough free disk space to install this model: it needs {_gb(needed)} "
            f"({_gb(checkpoint.weights_bytes)} of weights and a margin), the disk has {_gb(free)} free",
            hint="free some space there, or set ARTIMUSE_MODELS_DIR to a folder on a bigger disk; nothing was written",
        )


def convert_checkpoint(
    source: SourceCheckpoint | str | Path,
    dest: Path,
    progress: Callable[[int, int], None] | None = None,
    max_shard_bytes: int = DEFAULT_MAX_SHARD_BYTES,
) -> ConversionResult:
    """Write the native checkpoint into the empty folder ``dest``: shards, config.json, tokenizer, sidecar.

    On any failure (a full disk included) the files written into ``dest`` are removed again.
    """
    checkpoint = source if isinstance(source, SourceCheckpoint) else inspect_checkpoint(source)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise ModelError(f"{dest}: conversion target is not empty")
    check_disk_space(checkpoint, dest, max_shard_bytes)
    try:
        checksum, shards = _write_all(checkpoint, dest, progress, max_shard_bytes)
    except BaseException as exc:
        for path in dest.iterdir():
            path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _write_error(dest, exc, checkpoint) from exc
        raise
    return ConversionResult(
        layout=checkpoint.layout,
        checksum=checksum,
        size=checkpoint.weights_bytes,
        num_parameters=checkpoint.num_parameters,
        shards=shards,
    )


def _write_all(
    checkpoint: SourceCheckpoint, dest: Path, progress: Callable[[int, int], None] | None, max_shard_bytes: int
) -> tuple[str, int]:
    shards, checksum = write_shards(_ordered(checkpoint), dest, max_shard_bytes, progress)
    (dest / "config.json").write_text(json.dumps(checkpoint.native_config, indent=2) + "\n", encoding="utf-8")
    for path in checkpoint.tokenizer_files:
        if path.name == "tokenizer_config.json":
            config = read_json(path)
            config.pop("auto_map", None)  # never let a tokenizer pull in remote code
            (dest / path.name).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        else:
            shutil.copyfile(path, dest / path.name)
    sidecar = dict(checkpoint.sidecar, checksum=checksum)
    (dest / SIDECAR_NAME).write_text(json.dumps(sidecar, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return checksum, len(shards)


def _write_error(dest: Path, exc: OSError, checkpoint: SourceCheckpoint) -> ModelError:
    """A write that failed half-way, as a message naming the folder (its partial files are gone)."""
    if exc.errno == errno.ENOSPC:
        return ModelError(
            f"{dest}: the disk filled up while converting the model ({_gb(checkpoint.weights_bytes)} of weights); "
            "the partly written files were removed",
            hint="free some space there (another program may have been writing), or set ARTIMUSE_MODELS_DIR to "
            "a folder on a bigger disk",
        )
    where = exc.filename or dest
    return ModelError(
        f"{where}: {exc.strerror or exc} while converting the model into {dest}; the partly written files were removed"
    )


def _gb(nbytes: int) -> str:
    return f"{nbytes / 1e9:.1f} GB" if nbytes >= 10**8 else f"{nbytes / 1e6:.1f} MB"
