"""Options shared by the commands that run a model (score, critique): which model, device, quantisation."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from artimuse_desktop.scoring.backend import Backend

DEVICES = ("auto", "cpu", "cuda", "mps")
DTYPES = ("auto", "float32", "bfloat16", "float16")


def add_model_options(parser: argparse.ArgumentParser, default_model: str | None) -> None:
    parser.add_argument(
        "--model",
        default=default_model,
        help="model name from 'artimuse-desktop models list' (default: %(default)s)",
    )
    parser.add_argument("--device", choices=DEVICES, default="auto", help="where the model runs (default: auto)")
    parser.add_argument(
        "--quantize",
        choices=("none", "8bit", "4bit"),
        default="none",
        help="ArtiMuse with cheaper arithmetic, its scores stored as another model version: 8bit = int8 weights "
        "and activations (faster scores), 4bit = 4-bit weights (least memory, faster critique decoding). On CPUs "
        "through torch's own kernels; on CUDA GPUs through bitsandbytes (the 'quantize' extra)",
    )
    parser.add_argument(
        "--dtype",
        choices=DTYPES,
        default="auto",
        help="ArtiMuse compute precision (default auto: bfloat16 on GPUs and on CPUs that compute it natively "
        "(AVX512-BF16, AMX, ARM BF16), else float32; float32 gives the exact reference numbers)",
    )


def load_backend(
    name: str,
    device: str,
    quantize: str = "none",
    experimental_attributes: bool = False,
    dtype: str = "auto",
    max_new_tokens: int | None = None,
) -> Backend:
    """Create and load a backend, passing ``quantize``, ``dtype`` and ``max_new_tokens`` only to backends that
    take them."""
    import inspect

    from artimuse_desktop.errors import ModelError
    from artimuse_desktop.scoring.registry import create_backend

    backend = create_backend(name)
    if experimental_attributes:
        enable = getattr(backend, "set_experimental_attribute_scores", None)
        if enable is None:
            raise ModelError(f"the model {name!r} has no experimental attribute scores", hint="use an ArtiMuse model")
        enable(True)
    if max_new_tokens is not None:
        if not hasattr(backend, "max_new_tokens"):
            raise ModelError(f"the model {name!r} does not generate its critiques", hint="drop --max-new-tokens")
        backend.max_new_tokens = max_new_tokens
    parameters = inspect.signature(backend.load).parameters
    options: dict[str, str] = {}
    if quantize != "none":
        if "quantize" not in parameters:
            raise ModelError(f"the model {name!r} cannot be quantised", hint="drop --quantize")
        options["quantize"] = quantize
    if dtype != "auto":
        if "dtype" not in parameters:
            raise ModelError(f"the model {name!r} has no choice of precision", hint="drop --dtype")
        options["dtype"] = dtype
    backend.load(device, **options)
    return backend
