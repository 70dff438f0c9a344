"""Lazy backend registry: a backend's module is imported only when that backend is chosen.

Listing backends must stay cheap (it runs at start-up and in ``models list``), so availability of heavy backends
is judged without importing them: ``importlib.util.find_spec`` for packages, the model store's manifest for
weights. Names: ``technical`` (built in, default), ``artimuse`` (the default installed ArtiMuse model) and
``artimuse:NAME`` (a specific installed model).
"""

from __future__ import annotations

import importlib

from artimuse_desktop.errors import ModelUnavailableError
from artimuse_desktop.scoring.backend import Backend, BackendInfo

DEFAULT_BACKEND = "technical"


def list_backends() -> list[BackendInfo]:
    """Every backend the app knows, with availability and a human-readable reason."""
    infos = [
        BackendInfo(
            name="technical",
            description="Built-in technical analyzer (sharpness, exposure, noise, colour, tilt, thirds); "
            "CPU only, no weights",
            available=True,
            reason="built in",
        )
    ]
    discovery = importlib.import_module("artimuse_desktop.scoring.artimuse.discovery")
    infos.extend(discovery.list_entries())
    return infos


def backend_info(name: str) -> BackendInfo:
    for info in list_backends():
        if info.name == name:
            return info
    known = ", ".join(info.name for info in list_backends())
    raise ModelUnavailableError(f"unknown model {name!r}", hint=f"known models: {known}")


def create_backend(name: str = DEFAULT_BACKEND) -> Backend:
    """Instantiate (not load) a backend; imports its module now, never earlier."""
    if name == "technical":
        module = importlib.import_module("artimuse_desktop.scoring.technical.backend")
        backend: Backend = module.TechnicalBackend()
        return backend
    if name == "artimuse" or name.startswith("artimuse:"):
        info = backend_info(name)
        if not info.available:
            raise ModelUnavailableError(f"model {name!r} is not available: {info.reason}")
        module = importlib.import_module("artimuse_desktop.scoring.artimuse.backend")
        model_name = name.split(":", 1)[1] if ":" in name else None
        backend = module.ArtiMuseBackend(model_name)
        return backend
    backend_info(name)  # raises with the list of known names
    raise ModelUnavailableError(f"model {name!r} cannot be created")
