"""Reading and writing safetensors files as bytes, without torch.

Conversion only renames tensors and slices contiguous byte ranges, so tensors are streamed from one file to
another through one reused 16 MB buffer: converting the 16 GB 8B checkpoint takes well under 100 MB of RAM
whatever its size, and the result is byte-exact. Each shard is flushed and synced before the next, and the
pages read and written are handed back to the kernel (``posix_fadvise``), so a conversion does not push the
photographer's other programs out of the page cache either.
Headers are parsed and checked first (dtypes, shapes against byte spans, ranges in order, never overlapping,
inside the file), so a truncated, corrupt or crafted file fails naming the file and the tensor.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.artimuse.convert.checks import CheckpointError, parse_json

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

MAX_HEADER_BYTES = 100 * 1024 * 1024  # the safetensors library's own limit
MAX_DIMS = 8
COPY_CHUNK = 16 * 1024 * 1024


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
    """Parse and check one safetensors file's header; errors name the file and the tensor.

    Nothing but the header is read. Each tensor needs a known dtype, a shape of whole non-negative numbers whose
    size in bytes is exactly its byte range, and the ranges must tile the data section in order: none overlaps
    another (two tensors sharing bytes used to be accepted and scored), none reaches past the end of the file.
    """
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            raw_len = handle.read(8)
            if len(raw_len) != 8:
                raise CheckpointError(f"{path}: not a safetensors file (shorter than 8 bytes)")
            (header_len,) = struct.unpack("<Q", raw_len)
            if header_len < 2 or header_len > MAX_HEADER_BYTES or 8 + header_len > size:
                raise CheckpointError(
                    f"{path}: not a safetensors file (header length {header_len} is impossible "
                    f"for a file of {size} bytes)"
                )
            header_bytes = handle.read(header_len)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    header = parse_json(header_bytes, f"{path}: the safetensors header")
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: not a safetensors file (header is not a JSON object)")
    data_start = 8 + header_len
    tensors = {
        name: _tensor_ref(path, name, info, data_start) for name, info in header.items() if name != "__metadata__"
    }
    _check_layout(path, tensors, data_start, size)
    return tensors


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _tensor_ref(path: Path, name: str, info: object, data_start: int) -> TensorRef:
    """One header entry as a TensorRef, its dtype, shape and byte span checked against each other."""
    if not isinstance(info, dict):
        raise CheckpointError(f"{path}: tensor {name!r} has a malformed header entry (not an object)")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPE_SIZES:
        raise CheckpointError(f"{path}: tensor {name!r} has unknown dtype {dtype!r}")
    if not isinstance(shape, list) or len(shape) > MAX_DIMS or not all(_whole(x) for x in shape):
        raise CheckpointError(f"{path}: tensor {name!r} has a malformed shape {str(shape)[:80]}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_whole(x) for x in offsets)):
        raise CheckpointError(f"{path}: tensor {name!r} has malformed data_offsets {str(offsets)[:80]}")
    begin, end = offsets
    expected = math.prod(shape) * DTYPE_SIZES[dtype]
    if end < begin or end - begin != expected:
        raise CheckpointError(
            f"{path}: tensor {name!r} is corrupt: shape {shape} {dtype} needs {expected} bytes, "
            f"its data_offsets [{begin}, {end}] span {end - begin}"
        )
    return TensorRef(path, dtype, tuple(shape), data_start + begin, data_start + end)


def _check_layout(path: Path, tensors: dict[str, TensorRef], data_start: int, size: int) -> None:
    """The byte ranges, in order, follow each other exactly from the data start to the end of the file
    (as the safetensors library writes and requires them)."""
    for name, ref in tensors.items():
        if ref.end > size:
            raise CheckpointError(
                f"{path}: tensor {name!r} is truncated: its bytes end at {ref.end}, the file has {size} "
                "(an incomplete download?)"
            )
    expected, previous = data_start, "the header"
    for name, ref in sorted(tensors.items(), key=lambda item: (item[1].start, item[1].end)):
        if ref.start < expected:
            raise CheckpointError(f"{path}: tensor {name!r} overlaps {previous} in the file")
        if ref.start > expected:
            raise CheckpointError(f"{path}: {ref.start - expected} bytes before tensor {name!r} belong to no tensor")
        expected, previous = ref.end, f"tensor {name!r}"
    if expected != size:
        raise CheckpointError(f"{path}: {size - expected} bytes after the last tensor belong to no tensor")


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


def _drop_cached(handle: BinaryIO, start: int, length: int) -> None:
    """Tell the kernel these pages will not be needed again (no-op where the call does not exist)."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None:
        with contextlib.suppress(OSError):
            advise(handle.fileno(), start, length, os.POSIX_FADV_DONTNEED)


def _copy_range(
    ref: TensorRef, out: BinaryIO, digest: hashlib._Hash, handles: dict[Path, io.FileIO], buffer: memoryview
) -> None:
    source = handles.get(ref.file)
    if source is None:
        source = handles[ref.file] = ref.file.open("rb", buffering=0)
    source.seek(ref.start)
    remaining = ref.nbytes
    while remaining:
        view = buffer[: min(len(buffer), remaining)]
        got = source.readinto(view)
        if not got:
            raise ModelError(f"{ref.file}: file ended early (truncated download?)")
        chunk = view[:got]
        out.write(chunk)
        digest.update(chunk)
        remaining -= got
    _drop_cached(source, ref.start, ref.nbytes)


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


def planned_bytes(items: list[tuple[str, TensorRef]], max_shard_bytes: int) -> int:
    """The bytes ``write_shards`` will write for ``items``: every shard's header and data (not the index)."""
    return sum(
        len(_header_for(group, {"format": "pt"})) + sum(r.nbytes for _, r in group)
        for group in plan_shards(items, max_shard_bytes)
    )


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
    handles: dict[Path, io.FileIO] = {}
    written: list[WrittenShard] = []
    buffer = memoryview(bytearray(COPY_CHUNK))
    try:
        for number, group in enumerate(groups, start=1):
            name = "model.safetensors" if len(groups) == 1 else f"model-{number:05d}-of-{len(groups):05d}.safetensors"
            path = folder / name
            with path.open("wb") as out:
                header = _header_for(group, {"format": "pt"})
                out.write(header)
                digest.update(header)
                for _, ref in group:
                    _copy_range(ref, out, digest, handles, buffer)
                    done += ref.nbytes
                    if progress is not None:
                        progress(done, total)
                out.flush()
                os.fsync(out.fileno())  # on disk before the next shard; a full disk fails here, not later
                _drop_cached(out, 0, 0)  # length 0: the whole file
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
