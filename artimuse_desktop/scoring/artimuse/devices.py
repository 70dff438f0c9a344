"""Where a model runs and whether it fits: device choice, default dtype, memory estimate and OOM handling.

torch is imported inside each function, so importing this module stays cheap. The memory a model needs is
estimated from the store before loading, so a machine that cannot hold it gets a sentence saying what to try
instead of a crash halfway through loading 16 GB; an out-of-memory error while running becomes our
OutOfMemoryError, so the pipeline can halve the batch and retry.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

from artimuse_desktop.errors import ModelUnavailableError, OutOfMemoryError

_BYTES_PER_PARAM = {"float32": 4.0, "bfloat16": 2.0, "float16": 2.0, "8bit": 1.1, "4bit": 0.6}


def detect_device(requested: str = "auto") -> str:
    """``auto`` picks cuda:0, then mps, then cpu; an explicit device is checked to exist."""
    import torch

    requested = (requested or "auto").strip().lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return "cuda:0"
        if _mps_available():
            return "mps"
        return "cpu"
    if requested == "cpu":
        return "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ModelUnavailableError(
                f"device {requested!r} was asked for, but no CUDA GPU is usable here",
                hint="use --device cpu (slow) or check the NVIDIA driver and the CUDA build of torch",
            )
        index = int(requested.split(":", 1)[1]) if ":" in requested else 0
        if index >= torch.cuda.device_count():
            raise ModelUnavailableError(
                f"device {requested!r} does not exist ({torch.cuda.device_count()} CUDA device(s))"
            )
        return f"cuda:{index}"
    if requested == "mps":
        if not _mps_available():
            raise ModelUnavailableError("device 'mps' was asked for, but Apple Metal is not available here")
        return "mps"
    raise ModelUnavailableError(f"unknown device {requested!r}", hint="use auto, cpu, cuda, cuda:N or mps")


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def default_dtype_name(device: str) -> str:
    """float32 on CPU (exact reference numbers), bfloat16 on GPUs (the authors' dtype), else float16."""
    import torch

    if device == "cpu":
        return "float32"
    if device.startswith("cuda"):
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if device == "mps":
        try:
            torch.zeros(1, dtype=torch.bfloat16, device="mps")
            return "bfloat16"
        except (RuntimeError, TypeError):
            return "float16"
    return "float32"


def estimate_bytes(num_parameters: int, precision: str) -> int:
    """Weights at ``precision`` plus ~10% and 1 GB of working memory (activations, KV cache for critiques)."""
    weights = num_parameters * _BYTES_PER_PARAM[precision]
    return int(weights * 1.1 + 1e9)


def free_bytes(device: str) -> int | None:
    """Memory available on ``device`` now; None where it cannot be told (then no check is made)."""
    import torch

    try:
        if device.startswith("cuda"):
            free, _total = torch.cuda.mem_get_info(torch.device(device))
            return int(free)
        if device == "mps":
            mps = torch.mps
            return int(mps.recommended_max_memory() - mps.driver_allocated_memory())
    except (RuntimeError, AttributeError):
        return None
    return _host_available_bytes()


def _host_available_bytes() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    if sys.platform == "darwin" or os.name == "nt":
        try:
            import psutil

            return int(psutil.virtual_memory().available)
        except ImportError:
            return None
    return None


def check_memory(num_parameters: int, device: str, precision: str) -> None:
    """Refuse up front, with advice, when the model clearly does not fit (better than an OOM mid-load)."""
    needed = estimate_bytes(num_parameters, precision)
    free = free_bytes(device)
    if free is None or needed <= free:
        return
    advice = []
    if precision != "4bit" and device.startswith("cuda"):
        advice.append("--quantize 4bit")
    if device != "cpu":
        advice.append("--device cpu")
    hint = f"try {' or '.join(advice)}" if advice else "close other programs, or use a machine with a GPU"
    raise ModelUnavailableError(
        f"the model needs about {needed / 1e9:.0f} GB ({precision}), {device} has {free / 1e9:.0f} GB free",
        hint=hint,
    )


@contextlib.contextmanager
def oom_guard(device: str, what: str) -> Iterator[None]:
    """Turn torch's out-of-memory errors into ours, so the pipeline can halve the batch and retry."""
    import torch

    oom_type = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)  # torch.OutOfMemoryError: 2.5+
    try:
        yield
    except oom_type as exc:
        release_cache(device)
        raise OutOfMemoryError(f"{what} did not fit in {device} memory", hint="use a smaller batch") from exc
    except RuntimeError as exc:
        text = str(exc).lower()
        if "out of memory" in text or "can't allocate memory" in text or "not enough memory" in text:
            release_cache(device)
            raise OutOfMemoryError(f"{what} did not fit in {device} memory", hint="use a smaller batch") from exc
        raise


def release_cache(device: str) -> None:
    """Hand the allocator's cached blocks back to the device (after an OOM, or when a model is released)."""
    import torch

    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    elif device == "mps":
        torch.mps.empty_cache()
