"""The model store: one folder per installed model under ``paths.models_dir()`` plus a JSON manifest.

Every model in the store is in the native safetensors layout (``models add`` converts on the way in), so
loading never has to guess. The manifest records where a model came from, its layout, the sha256 of its
weights, size, when it was added and which one is the default. Runs at start-up (``models list``, the backend
registry): it never imports torch. Writes are atomic (temporary file or folder, then rename), so an
interrupted ``models add`` leaves nothing half-installed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from artimuse_desktop import paths
from artimuse_desktop.errors import ModelError, ModelUnavailableError

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ModelEntry:
    """One installed model. ``source`` is the folder or Hub repo id it was added from."""

    name: str
    source: str
    layout: str
    checksum: str
    size: int
    added_at: str
    default: bool = False
    num_parameters: int = 0
    root: str = field(default="", compare=False, repr=False)  # the store it was read from (not saved)

    @property
    def path(self) -> Path:
        """The model's folder; fixed when the entry is read, so a later change of store does not move it."""
        return (Path(self.root) if self.root else paths.models_dir()) / self.name

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("root")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], root: str = "") -> ModelEntry:
        return cls(
            root=root,
            name=str(data["name"]),
            source=str(data.get("source", "")),
            layout=str(data.get("layout", "")),
            checksum=str(data.get("checksum", "")),
            size=int(data.get("size", 0)),
            added_at=str(data.get("added_at", "")),
            default=bool(data.get("default", False)),
            num_parameters=int(data.get("num_parameters", 0)),
        )


def manifest_path() -> Path:
    return paths.models_dir() / MANIFEST_NAME


def load_manifest() -> list[ModelEntry]:
    """Installed models, in the order they were added; an absent manifest means none."""
    path = manifest_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelError(
            f"{path}: the model store manifest cannot be read ({exc})",
            hint="fix or delete the file, then add the models again with `artimuse-desktop models add`",
        ) from exc
    if not isinstance(data, dict) or int(data.get("format", 0)) > MANIFEST_FORMAT:
        raise ModelError(f"{path}: written by a newer ArtiMuse Desktop (or not a manifest); left untouched")
    try:
        root = str(paths.models_dir())
        return [ModelEntry.from_json(item, root) for item in data.get("models", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: malformed model entry ({exc})") from exc


def _save_manifest(entries: list[ModelEntry]) -> None:
    path = manifest_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": MANIFEST_FORMAT, "models": [e.to_json() for e in entries]}
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)
            handle.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def list_models() -> list[ModelEntry]:
    return load_manifest()


def default_model() -> ModelEntry | None:
    entries = load_manifest()
    for entry in entries:
        if entry.default:
            return entry
    return entries[0] if entries else None


def get_model(name: str | None = None) -> ModelEntry:
    """The named model, or the default one when ``name`` is None; a clear error when it is not installed."""
    entries = load_manifest()
    if name is None:
        entry = default_model()
        if entry is None:
            raise ModelUnavailableError(
                "no ArtiMuse model is installed",
                hint="run `artimuse-desktop models download Thunderbolt215215/ArtiMuse`, "
                "or `artimuse-desktop models add PATH` for a checkpoint you already have",
            )
        return entry
    for entry in entries:
        if entry.name == name:
            return entry
    known = ", ".join(e.name for e in entries) or "none"
    raise ModelUnavailableError(f"model {name!r} is not installed (installed: {known})")


def check_installed(entry: ModelEntry) -> str | None:
    """Cheap file checks (no hashing): None when the folder looks complete, else the reason it does not."""
    folder = entry.path
    if not folder.is_dir():
        return f"its folder {folder} is missing"
    for name in ("config.json", "artimuse.json", "tokenizer_config.json"):
        if not (folder / name).is_file():
            return f"{folder / name} is missing"
    index = folder / "model.safetensors.index.json"
    if not index.is_file() and not (folder / "model.safetensors").is_file():
        return f"no weights in {folder}"
    return None


def validate_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise ModelError(
            f"invalid model name {name!r}",
            hint="use letters, digits, '.', '_' or '-' (at most 64 characters, not starting with '.' or '-')",
        )
    return name


def default_name_for(source: str) -> str:
    """A model name from a folder path or repo id: its last component, cleaned up."""
    last = source.rstrip("/\\").replace("\\", "/").split("/")[-1] or "model"
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", last).strip(".-") or "model"
    return cleaned[:64]


def add_model(
    source: str | Path,
    name: str | None = None,
    make_default: bool = False,
    progress: Callable[[int, int], None] | None = None,
    source_label: str | None = None,
) -> ModelEntry:
    """Validate, convert into the store and register a checkpoint folder (either layout).

    The conversion writes into a hidden temporary folder next to the final one and renames it into place only
    when complete, so a crash or Ctrl+C never leaves a half-written model behind.
    """
    from artimuse_desktop.scoring.artimuse.convert import checkpoint as conversion

    source_path = Path(source).expanduser()
    name = validate_name(name or default_name_for(str(source_path.resolve())))
    if any(e.name == name for e in load_manifest()):
        raise ModelError(
            f"a model named {name!r} is already installed",
            hint=f"pick another --name, or remove it first: `artimuse-desktop models remove {name}`",
        )
    checkpoint = conversion.inspect_checkpoint(source_path)  # all validation before anything is written
    root = paths.models_dir()
    root.mkdir(parents=True, exist_ok=True)
    final = root / name
    if final.exists():
        raise ModelError(f"{final} already exists but is not in the manifest", hint="delete or move that folder")
    conversion.check_disk_space(checkpoint, root)  # before anything is written, naming the store folder
    staging = Path(tempfile.mkdtemp(prefix=f".adding-{name}-", dir=root))
    try:
        result = conversion.convert_checkpoint(checkpoint, staging, progress=progress)
        os.chmod(staging, 0o755)  # mkdtemp makes it private; the model is no secret
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    entry = ModelEntry(
        name=name,
        source=source_label or str(source_path.resolve()),
        layout=result.layout,
        checksum=result.checksum,
        size=result.size,
        added_at=datetime.now(UTC).isoformat(timespec="seconds"),
        default=False,
        num_parameters=result.num_parameters,
        root=str(root),
    )
    with _LOCK:
        entries = load_manifest()
        entries.append(entry)
        if make_default or not any(e.default for e in entries):
            entries = [_with_default(e, e.name == name) for e in entries]
        _save_manifest(entries)
    return next(e for e in entries if e.name == name)


def _with_default(entry: ModelEntry, default: bool) -> ModelEntry:
    return dataclasses.replace(entry, default=default)


def set_default(name: str) -> ModelEntry:
    with _LOCK:
        entries = load_manifest()
        if not any(e.name == name for e in entries):
            get_model(name)  # raises with the installed names
        entries = [_with_default(e, e.name == name) for e in entries]
        _save_manifest(entries)
    return next(e for e in entries if e.name == name)


def remove_model(name: str) -> ModelEntry:
    """Unregister and delete a model; if it was the default, the oldest remaining one becomes the default."""
    with _LOCK:
        entries = load_manifest()
        entry = next((e for e in entries if e.name == name), None)
        if entry is None:
            get_model(name)  # raises with the installed names
            raise AssertionError("unreachable")
        rest = [e for e in entries if e.name != name]
        if entry.default and rest:
            rest = [_with_default(e, i == 0) for i, e in enumerate(rest)]
        _save_manifest(rest)
    folder = entry.path
    if folder.is_dir():
        trash = folder.with_name(f".removing-{name}")
        shutil.rmtree(trash, ignore_errors=True)
        os.replace(folder, trash)
        shutil.rmtree(trash, ignore_errors=True)
    return entry


def read_sidecar(entry: ModelEntry) -> dict[str, Any]:
    """The prompt settings and token ids recorded at conversion (``artimuse.json``)."""
    from artimuse_desktop.scoring.artimuse.convert.checks import read_json_file

    path = entry.path / "artimuse.json"
    try:
        data = read_json_file(path)
        if not isinstance(data, dict):
            raise ModelError(f"{path}: not a JSON object")
    except ModelError as exc:
        raise ModelUnavailableError(
            f"the model's settings cannot be read: {exc.message}",
            hint=f"remove and add the model again: `artimuse-desktop models remove {entry.name}`",
        ) from exc
    return data
