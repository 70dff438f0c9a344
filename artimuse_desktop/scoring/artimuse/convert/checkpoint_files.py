"""Finding what a checkpoint folder holds: its safetensors weight files and its tokenizer files.

Only JSON is read (no tokenizer library), and pickled weights (``.bin``, ``.pt``...) are refused with the
reason: unpickling can run arbitrary code. Every file must resolve inside the checkpoint folder (a link to
elsewhere is refused), and JSON is read with the size and nesting limits of ``checks``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.artimuse.convert.checks import CheckpointError, confine, read_json_file

PICKLE_SUFFIXES: tuple[str, ...] = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
TOKENIZER_FILES: tuple[str, ...] = (
    "tokenizer.json",
    "vocab.json",
    "merges.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
)


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


def read_json(path: Path) -> Any:
    """A JSON file of the checkpoint, or a CheckpointError naming the file and what is wrong with it."""
    return read_json_file(path)


def _json_object(path: Path) -> dict[str, Any]:
    data = read_json(path)
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: not a JSON object")
    return data


def find_weight_files(folder: Path) -> list[Path]:
    """The safetensors files holding the weights; pickled weights are refused with the reason."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        weight_map = _json_object(index).get("weight_map")
        if not isinstance(weight_map, dict) or not weight_map:
            raise CheckpointError(f"{index}: has no 'weight_map'")
        if not all(isinstance(name, str) and name for name in weight_map.values()):
            raise CheckpointError(f"{index}: weight_map holds a shard name that is not a file name")
        files = [confine(folder / name, folder) for name in sorted(set(weight_map.values()))]
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            raise ModelError(
                f"{folder}: weight shard(s) listed in model.safetensors.index.json are missing: {', '.join(missing)}",
                hint="the download is incomplete; run the download again (it resumes)",
            )
        return files
    files = sorted(p for p in folder.glob("*.safetensors") if p.is_file() or p.is_symlink())
    if files:
        return [confine(path, folder) for path in files]
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise ModelError(
            f"{folder}: only pickled weights found ({', '.join(pickles)}); refusing to load them, because "
            "unpickling a file can run arbitrary code",
            hint="use a checkpoint with .safetensors weights (the ArtiMuse checkpoints on the Hugging Face "
            "Hub have them), or convert it to safetensors yourself in a trusted environment",
        )
    raise ModelError(f"{folder}: no weights found (expected model.safetensors or model.safetensors.index.json)")


def read_tokenizer(folder: Path) -> tuple[TokenizerInfo, list[Path]]:
    """Read vocab and added tokens; errors name the missing file."""
    config_path = folder / "tokenizer_config.json"
    if not config_path.is_file():
        raise ModelError(f"{folder}: tokenizer_config.json is missing (the tokenizer cannot be built)")
    files = [confine(folder / name, folder) for name in TOKENIZER_FILES if (folder / name).is_file()]
    try:
        tokenizer = _read_tokenizer(folder)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{folder}: the tokenizer files are malformed ({type(exc).__name__}: {exc})") from exc
    return tokenizer, files


def _read_tokenizer(folder: Path) -> TokenizerInfo:
    config_path = folder / "tokenizer_config.json"
    tokenizer_json = folder / "tokenizer.json"
    vocab_json, merges = folder / "vocab.json", folder / "merges.txt"
    added: dict[str, int] = {}
    vocab: dict[str, int]
    if tokenizer_json.is_file():
        data = read_json(tokenizer_json)
        vocab = dict(data.get("model", {}).get("vocab", {}))
        for item in data.get("added_tokens", []):
            added[str(item["content"])] = int(item["id"])
    elif vocab_json.is_file() and merges.is_file():
        vocab = dict(read_json(vocab_json))
    else:
        missing = [p.name for p in (vocab_json, merges) if not p.is_file()]
        raise ModelError(
            f"{folder}: tokenizer files are missing: {', '.join(missing)} (or tokenizer.json)",
        )
    config = _json_object(config_path)
    for token_id, item in (config.get("added_tokens_decoder") or {}).items():
        added.setdefault(str(item["content"]), int(token_id))
    added_json = folder / "added_tokens.json"
    if added_json.is_file():
        for content, token_id in read_json(added_json).items():
            added.setdefault(str(content), int(token_id))
    special = _special_tokens(config)
    special_map = folder / "special_tokens_map.json"
    if special_map.is_file():
        special |= _special_tokens(_json_object(special_map))
    return TokenizerInfo(vocab=vocab, added=added, special=special)


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
