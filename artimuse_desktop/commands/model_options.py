"""Options shared by the commands that run a model (score, critique): which model, device, quantisation."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from artimuse_desktop.scoring.backend import Backend

DEVICES = ("auto", "cpu", "cuda", "mps")


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
        help="load ArtiMuse weights quantised through bitsandbytes (needs the 'quantize' extra and a CUDA GPU)",
    )


def load_backend(name: str, device: str, quantize: str = "none", experimental_attributes: bool = False) -> Backend:
    """Create and load a backend, passing ``quantize`` only to backends that take it."""
    import inspect

    from artimuse_desktop.errors import ModelError
    from artimuse_desktop.scoring.registry import create_backend

    backend = create_backend(name)
    if experimental_attributes:
        enable = getattr(backend, "set_experimental_attribute_scores", None)
        if enable is None:
            raise ModelError(f"the model {name!r} has no experimental attribute scores", hint="use an ArtiMuse model")
        enable(True)
    parameters = inspect.signature(backend.load).parameters
    if quantize != "none":
        if "quantize" not in parameters:
            raise ModelError(f"the model {name!r} cannot be quantised", hint="drop --quantize")
        backend.load(device, quantize=quantize)  # type: ignore[call-arg]
    else:
        backend.load(device)
    return backend
