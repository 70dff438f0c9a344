"""Tensors of a safetensors file read with plain reads into memory of their own, not through a mapping.

safetensors maps the file, and every page a read touches stays resident, counted in the process's memory,
until the file is closed. That is right for tensors used in place, and wrong for the ones the CPU quantiser
copies and repacks at once: the 8B model's 16 GB of bf16 weights, or the cache's 8 GB of int8 ones, were
resident beside the packed copies for the whole load. Read this way, only the copy being worked on is.
"""

from __future__ import annotations

from typing import Any

from artimuse_desktop.scoring.artimuse.convert.safetensors_io import TensorRef

TORCH_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64"}
TORCH_DTYPES |= {"I32": "int32", "I16": "int16", "I8": "int8", "U8": "uint8", "BOOL": "bool"}


def read_tensor(ref: TensorRef, first: int = 0, count: int | None = None) -> Any:
    """Rows ``first`` to ``first + count`` (all by default) of the tensor at ``ref``."""
    import torch

    dtype = getattr(torch, TORCH_DTYPES[ref.dtype])
    shape: tuple[int, ...]
    if not ref.shape:  # a scalar
        first, count, rows, row_bytes, shape = 0, 1, 1, ref.nbytes, ()
    else:
        rows = ref.shape[0]
        row_bytes = ref.nbytes // rows if rows else 0
        count = rows - first if count is None else count
        count = max(0, min(count, rows - first))
        shape = (count, *ref.shape[1:])
    nbytes = count * row_bytes
    if not nbytes:
        return torch.empty(shape, dtype=dtype)
    data = bytearray(nbytes)
    view, done = memoryview(data), 0
    with ref.file.open("rb", buffering=0) as handle:
        handle.seek(ref.start + first * row_bytes)
        while done < nbytes:  # one read returns at most about 2 GB
            got = handle.readinto(view[done:])
            if not got:
                raise OSError(f"{ref.file} is shorter than its header says")
            done += got
    return torch.frombuffer(data, dtype=dtype).reshape(shape)


class RowSlices:
    """A tensor in a file, sliced by rows as a safetensors slice is (``weight[a:b]``, ``get_shape()``)."""

    def __init__(self, ref: TensorRef) -> None:
        self.ref = ref

    def get_shape(self) -> list[int]:
        return list(self.ref.shape)

    def __getitem__(self, key: slice) -> Any:
        if not isinstance(key, slice) or not self.ref.shape:
            raise TypeError("rows are read by slice: weight[a:b]")
        start, stop, step = key.indices(self.ref.shape[0])
        if step != 1:
            raise TypeError("rows are read in one run: no step")
        return read_tensor(self.ref, start, stop - start)
