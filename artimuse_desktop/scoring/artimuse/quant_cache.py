"""The CPU-quantised layers of an installed model, cached in the model store so a load does not quantise again.

Quantising the 8B model's Linear layers takes seconds per matrix; the result only depends on the weights, the
mode, this code's quantisation format and torch (whose int4 packing is the CPU kernel's own layout, hence the
CPU capability too). So the first quantised load writes the integer tensors to
``<model folder>/.quantized/<mode>-<key>.safetensors`` and later loads read them back (``cpu_quantize``).

* Safetensors only, one file per mode; the key fields are in its metadata and checked again on read.
* Written tensor by tensor as the layers are quantised (never a second copy of the model in memory), into a
  hidden temporary file that is synced and renamed into place only when complete: an interrupted load leaves
  no cache, never half a one. The header's room is reserved first and filled in at the end.
* Free disk is checked first; when short (or the store is read-only) the model still loads, uncached, and the
  log says why.
* On read the header is checked (dtypes, shapes, byte ranges tiling the file exactly: a truncated file fails),
  then the names and shapes against what the model needs. An unusable cache is deleted with a log line naming
  the file and the reason, and rebuilt. The data itself is not hashed (that would cost seconds per GB at
  every start); the file is only ever written whole and renamed into place.
* safetensors maps the file: tensors read from it (the 4-bit weights) stay in the page cache, backed by the
  file. A cache is therefore never rewritten in place, only replaced by rename or deleted, which leaves a
  running model's mapping intact. The int8 weights are read with plain reads instead (``READ_NOT_MAPPED``):
  torch repacks each into a layout of its own at once, and the mapped pages left behind stayed resident for
  the whole load (an 8-bit 8B model peaked at 16 GB instead of about 9).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import struct
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from artimuse_desktop.errors import ModelError

log = logging.getLogger(__name__)

#: Tensor names read into memory of their own rather than from the file's mapping: copied at once for repacking.
READ_NOT_MAPPED = (".qweight.", ".qscale.")

FOLDER = ".quantized"
FORMAT = "artimuse-quantized"
FORMAT_VERSION = "1"  # bump when the quantisation (rounding, block sizes, tensor names) changes
DISK_MARGIN = 256 * 1024 * 1024  # left free on the disk after the cache is written
_DTYPES = {"int8": "I8", "uint8": "U8", "float64": "F64", "float32": "F32", "bfloat16": "BF16", "int32": "I32"}


class CacheUnusable(ModelError):
    """The cache file exists but cannot be used (wrong key, truncated, corrupt, other shapes)."""


@dataclass(frozen=True)
class CacheKey:
    """What the quantised tensors depend on; ``fields`` go into the file's metadata."""

    mode: str
    weights: str  # sha256 of the installed weights (the model version)
    torch: str
    cpu: str

    @property
    def fields(self) -> dict[str, str]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "mode": self.mode,
            "weights_sha256": self.weights,
            "torch": self.torch,
            "cpu_capability": self.cpu,
        }

    def path(self, folder: Path) -> Path:
        digest = hashlib.blake2b(json.dumps(self.fields, sort_keys=True).encode(), digest_size=6).hexdigest()
        return folder / FOLDER / f"{self.mode}-{self.weights[:12]}-{digest}.safetensors"


def key_for(mode: str, weights_sha256: str) -> CacheKey:
    import torch

    capability = getattr(torch.backends.cpu, "get_cpu_capability", lambda: "unknown")()
    return CacheKey(mode=mode, weights=weights_sha256, torch=str(torch.__version__), cpu=str(capability))


class CacheWriter:
    """Streams tensors into a temporary safetensors file; ``commit`` fills in the header and renames it."""

    def __init__(self, final: Path, key: CacheKey, names: Iterable[str]) -> None:
        self.final = final
        self.key = key
        self.names = list(names)
        self.entries: dict[str, dict[str, Any]] = {}
        self.offset = 0
        # room for the header: each entry's name, dtype, up to 3 dimensions and 2 offsets of 20 digits each
        fixed = len(json.dumps({"__metadata__": key.fields}))
        self.reserved = 8 * math.ceil((fixed + sum(len(n) + 160 for n in self.names) + 64) / 8)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".writing-{final.stem}-", suffix=".tmp", dir=final.parent)
        self.tmp = Path(tmp)
        self.handle: BinaryIO = os.fdopen(fd, "wb")
        self.handle.write(b"\0" * (8 + self.reserved))

    def add(self, name: str, tensor: Any) -> None:
        import torch

        if name in self.entries:
            raise ValueError(f"tensor {name!r} written twice to the quantised cache")
        dtype = _DTYPES.get(str(tensor.dtype).removeprefix("torch."))
        if dtype is None:
            raise ValueError(f"dtype {tensor.dtype} cannot go into the quantised cache")
        data = tensor.detach().contiguous().reshape(-1).view(torch.uint8).numpy()
        self.handle.write(memoryview(data))
        size = int(data.nbytes)
        self.entries[name] = {
            "dtype": dtype,
            "shape": list(tensor.shape),
            "data_offsets": [self.offset, self.offset + size],
        }
        self.offset += size

    def commit(self) -> Path:
        missing = [n for n in self.names if n not in self.entries]
        if missing or len(self.entries) != len(self.names):
            raise ValueError(f"quantised cache incomplete: {len(missing)} tensors missing, e.g. {missing[:2]}")
        header = json.dumps({"__metadata__": self.key.fields, **self.entries}, separators=(",", ":")).encode()
        if len(header) > self.reserved:
            raise ValueError(f"quantised cache header needs {len(header)} bytes, {self.reserved} were reserved")
        self.handle.flush()
        self.handle.seek(0)
        self.handle.write(struct.pack("<Q", self.reserved) + header + b" " * (self.reserved - len(header)))
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        os.chmod(self.tmp, 0o644)
        os.replace(self.tmp, self.final)
        _drop_others(self.final)
        return self.final

    def abort(self) -> None:
        if not self.handle.closed:
            self.handle.close()
        self.tmp.unlink(missing_ok=True)


def _drop_others(kept: Path) -> None:
    """Older caches of the same mode (another torch, other weights) are dead weight on the disk: delete them."""
    mode = kept.name.split("-", 1)[0]
    for other in kept.parent.glob(f"{mode}-*.safetensors"):
        if other != kept:
            log.info("deleting the stale quantised cache %s", other)
            other.unlink(missing_ok=True)


def open_writer(folder: Path, key: CacheKey, names: Iterable[str], nbytes: int) -> CacheWriter | None:
    """A writer for the cache of ``key``, or None (logged) when the disk is short or the store read-only."""
    final = key.path(folder)
    names = list(names)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(final.parent).free
    except OSError as exc:
        log.warning("not caching the %s weights in %s: %s", key.mode, final.parent, exc.strerror or exc)
        return None
    if free < nbytes + DISK_MARGIN:
        log.warning(
            "not caching the %s weights: %s needs %.2f GB in %s, %.2f GB free (the model loads, quantised again "
            "at every start)",
            key.mode,
            final.name,
            nbytes / 1e9,
            final.parent,
            free / 1e9,
        )
        return None
    try:
        return CacheWriter(final, key, names)
    except OSError as exc:
        log.warning("not caching the %s weights in %s: %s", key.mode, final.parent, exc.strerror or exc)
        return None


class CacheReader:
    """A checked cache file: tensors by name, read one at a time (``get``) from the open file."""

    def __init__(self, path: Path, key: CacheKey, shapes: dict[str, tuple[int, ...] | None]) -> None:
        from safetensors import safe_open

        from artimuse_desktop.scoring.artimuse.convert.checks import CheckpointError
        from artimuse_desktop.scoring.artimuse.convert.safetensors_io import read_header

        self.path = path
        try:
            self._refs = tensors = read_header(path)
        except CheckpointError as exc:
            raise CacheUnusable(exc.message) from exc
        if set(tensors) != set(shapes):
            extra, missing = sorted(set(tensors) - set(shapes)), sorted(set(shapes) - set(tensors))
            raise CacheUnusable(
                f"{path}: other tensors than the model needs (missing {missing[:2]}, extra {extra[:2]})"
            )
        for name, shape in shapes.items():
            if shape is not None and tensors[name].shape != shape:
                raise CacheUnusable(f"{path}: {name} has shape {list(tensors[name].shape)}, expected {list(shape)}")
        try:
            self.handle: Any = safe_open(str(path), framework="pt")
            metadata = self.handle.metadata() or {}
        except Exception as exc:  # safetensors raises its own error types for a malformed file
            raise CacheUnusable(f"{path}: cannot be opened ({exc})") from exc
        if metadata != key.fields:
            self.close()
            differs = sorted(k for k in key.fields if metadata.get(k) != key.fields[k])
            raise CacheUnusable(f"{path}: written for another {', '.join(differs) or 'format'}")

    def close(self) -> None:
        self.handle.__exit__(None, None, None)

    def get(self, name: str) -> Any:
        try:
            if any(part in name for part in READ_NOT_MAPPED):
                from artimuse_desktop.scoring.artimuse.plain_reads import read_tensor

                return read_tensor(self._refs[name])
            return self.handle.get_tensor(name)
        except Exception as exc:
            raise CacheUnusable(f"{self.path}: tensor {name} cannot be read ({exc})") from exc


def open_reader(folder: Path, key: CacheKey, shapes: dict[str, tuple[int, ...] | None]) -> CacheReader | None:
    """The cache of ``key`` when present and usable; an unusable one is deleted (logged) and None returned."""
    path = key.path(folder)
    if not path.is_file():
        return None
    try:
        return CacheReader(path, key, shapes)
    except CacheUnusable as exc:
        discard(path, exc.message)
        return None


def discard(path: Path, reason: str) -> None:
    log.warning("the quantised cache %s is unusable (%s): deleting it; the weights are quantised again", path, reason)
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:  # e.g. still mapped by another process on Windows: the new one replaces it later
        log.warning("could not delete %s: %s", path, exc.strerror or exc)
