"""Reading and writing safetensors files as bytes, without torch.

Conversion only renames tensors and slices contiguous byte ranges, so tensors are streamed from one file to
another one chunk at a time: an 8B checkpoint never needs two copies in RAM, and the result is byte-exact.
Headers are parsed and sanity-checked first, so a truncated or corrupt file fails naming the file and the reason.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from artimuse_desktop.errors import ModelError

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


def read_tensors(files: Iterable[Path]) -> dict[str, TensorRef]:
    """All tensors of a sharded checkpoint by name; a name in two shards is an error, not a silent pick."""
    tensors: dict[str, TensorRef] = {}
    for path in files:
        for name, ref in read_header(path).items():
            if name in tensors:
                raise ModelError(f"{path}: tensor {name!r} is also in {tensors[name].file.name}")
            tensors[name] = ref
    return tensors
