"""Where a model runs and whether it fits: device choice, default dtype, memory estimate and OOM handling.

torch is imported inside each function, so importing this module stays cheap. The memory a model needs is
estimated from the store before loading, so a machine that cannot hold it gets a sentence saying what to try
instead of a crash halfway through loading 16 GB; an out-of-memory error while running becomes our
OutOfMemoryError, so the pipeline can halve the batch and retry.

On a CPU the default dtype is bfloat16 only where the processor computes it natively (AVX512-BF16 or AMX on
x86, the BF16 extension on ARM): there it halves the memory (16 GB instead of 32 for the 8B model) and runs
faster. Elsewhere bf16 would be emulated, slower than float32, so float32 (the exact reference numbers) stays
the default and the memory check names ``--dtype bfloat16`` or a quantisation when float32 does not fit.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform
import subprocess
import sys
from collections.abc import Collection, Iterator

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
    """bfloat16 on a CPU that computes it natively, else float32 (exact reference numbers); bfloat16 on GPUs
    (the authors' dtype), or float16 where bf16 is unsupported."""
    import torch

    if device == "cpu":
        return "bfloat16" if cpu_native_bf16() else "float32"
    if device.startswith("cuda"):
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    if device == "mps":
        try:
            torch.zeros(1, dtype=torch.bfloat16, device="mps")
            return "bfloat16"
        except (RuntimeError, TypeError):
            return "float16"
    return "float32"


_X86 = ("x86_64", "amd64", "i386", "i686", "x86")
_X86_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # the names Linux gives them in /proc/cpuinfo


def native_bf16(flags: Collection[str], machine: str, capability: str | None = None) -> bool:
    """Whether a CPU with these feature ``flags`` computes bfloat16 natively (a pure function: testable).

    x86: AVX512-BF16 or AMX-BF16, and torch's kernels built for AVX512 (``capability``: torch's
    ``get_cpu_capability()``; AVX2 there means torch runs without AVX512, ``ATEN_CPU_CAPABILITY`` for example,
    so bf16 would be converted in software). ARM: the BF16 extension (``bf16`` in Linux's Features line,
    ``FEAT_BF16`` from macOS's sysctl: Apple M2 and later, Graviton 3 and later).
    """
    names = {flag.lower() for flag in flags}
    if machine.lower() in _X86:
        has = any(flag in names for flag in _X86_BF16_FLAGS)
        return has and (capability is None or capability.upper().startswith("AVX512"))
    if machine.lower() in ("arm64", "aarch64", "armv8", "armv9"):
        return "bf16" in names or "feat_bf16" in names
    return False


def parse_cpuinfo_flags(text: str) -> set[str]:
    """The feature flags in a Linux ``/proc/cpuinfo`` (``flags`` on x86, ``Features`` on ARM), first CPU."""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return set(value.split())
    return set()


def cpu_flags() -> set[str]:
    """This CPU's feature flags, as far as the platform tells them without privileges; empty when unknown."""
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
                return parse_cpuinfo_flags(handle.read())
        except OSError:
            return set()
    if sys.platform == "darwin":
        try:
            done = subprocess.run(
                ["sysctl", "-n", "hw.optional.arm.FEAT_BF16"], capture_output=True, text=True, timeout=5, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return set()
        return {"FEAT_BF16"} if done.stdout.strip() == "1" else set()
    return set()  # Windows: no bf16 feature query; float32 stays the default there


CPU_BF16_ENV = "ARTIMUSE_CPU_BF16"


def cpu_native_bf16() -> bool:
    """Whether this machine's CPU computes bfloat16 natively (detected once per process).

    ``ARTIMUSE_CPU_BF16=0`` or ``1`` overrides the detection: the test suite pins 0 so the reference numbers
    hold on every machine, and a user can correct a wrong guess.
    """
    forced = os.environ.get(CPU_BF16_ENV, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    return _detected_native_bf16()


@functools.lru_cache(maxsize=1)
def _detected_native_bf16() -> bool:
    import torch

    capability: str | None
    try:
        capability = str(torch.backends.cpu.get_cpu_capability())
    except (AttributeError, RuntimeError):
        capability = None
    return native_bf16(cpu_flags(), platform.machine(), capability)


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


_LABELS = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16", "8bit": "8-bit", "4bit": "4-bit"}
_OPTIONS = {"bfloat16": "--dtype bfloat16", "8bit": "--quantize 8bit", "4bit": "--quantize 4bit"}
_SMALLER = {
    "float32": ("bfloat16", "8bit", "4bit"),
    "bfloat16": ("8bit", "4bit"),
    "float16": ("8bit", "4bit"),
    "8bit": ("4bit",),
    "4bit": (),
}


def _gb(nbytes: float) -> str:
    return f"{nbytes / 1e9:.0f} GB"


def memory_advice(num_parameters: int, device: str, precision: str, free: int) -> str | None:
    """The first smaller precision that fits in ``free`` bytes, as the option to pass; None when none does.

    Quantisation is offered on CPU and CUDA only (the devices it runs on); bfloat16 on a CPU that would
    emulate it is offered all the same, because fitting slowly beats not running at all, with a warning.
    """
    for option in _SMALLER.get(precision, ()):
        if option != "bfloat16" and not (device == "cpu" or device.startswith("cuda")):
            continue
        needed = estimate_bytes(num_parameters, option)
        if needed <= free:
            advice = f"{_LABELS[option]} (about {_gb(needed)}) fits: pass {_OPTIONS[option]}"
            if option == "bfloat16" and device == "cpu" and not cpu_native_bf16():
                advice += " (emulated on this CPU: slower than float32)"
            return advice
    return None


def check_memory(num_parameters: int, device: str, precision: str, free: int | None = None) -> None:
    """Refuse up front, naming the option that fits this machine (better than an OOM mid-load).

    ``free``: the bytes available, measured now when not given.
    """
    needed = estimate_bytes(num_parameters, precision)
    if free is None:
        free = free_bytes(device)
    if free is None or needed <= free:
        return
    where = "this machine" if device == "cpu" else device
    hint = memory_advice(num_parameters, device, precision, free)
    if hint is None:
        smallest = "4bit" if device == "cpu" or device.startswith("cuda") else "bfloat16"
        hint = f"even {_LABELS[smallest]} (about {_gb(estimate_bytes(num_parameters, smallest))}) does not fit: " + (
            "close other programs, or use a machine with more memory" if device == "cpu" else "try --device cpu"
        )
    raise ModelUnavailableError(
        f"the model needs about {_gb(needed)} in {_LABELS.get(precision, precision)} but {where} has {_gb(free)} free",
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
