"""Which ArtiMuse backends exist on this machine, judged without importing torch (this runs at start-up).

``artimuse`` is the default installed model, ``artimuse:NAME`` each installed one. Availability needs the
optional packages (found with ``importlib.util.find_spec``, not imported) and the model's files in the store.
"""

from __future__ import annotations

import importlib.util
import os

from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.artimuse import store
from artimuse_desktop.scoring.backend import BackendInfo

REQUIRED_PACKAGES: tuple[str, ...] = ("torch", "transformers", "safetensors", "tokenizers")
INSTALL_HINT = "pip install 'artimuse-desktop[artimuse]'"
DOWNLOAD_HINT = "artimuse-desktop models download Thunderbolt215215/ArtiMuse"
LIGHT_BUILD_HINT = (
    "this is the light build, without the model runtime: install the full build (artimuse-desktop-full), "
    "or from source: pip install 'artimuse-desktop[artimuse]'"
)
BUILD_FLAVOUR_ENV = "ARTIMUSE_BUILD_FLAVOUR"
"""Set by the packaged builds' runtime hook (packaging/artimuse-desktop.spec): ``light`` or ``full``."""


def build_flavour() -> str | None:
    """``light`` or ``full`` in a packaged build; None when running from a Python install."""
    return os.environ.get(BUILD_FLAVOUR_ENV) or None


def install_hint() -> str:
    """How to get the missing packages: a packaged light build cannot pip-install into itself."""
    return LIGHT_BUILD_HINT if build_flavour() == "light" else INSTALL_HINT


def missing_packages() -> list[str]:
    missing = []
    for name in REQUIRED_PACKAGES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def _size(nbytes: int) -> str:
    return f"{nbytes / 1e9:.1f} GB" if nbytes >= 1e8 else f"{nbytes / 1e6:.1f} MB"


def _describe(entry: store.ModelEntry) -> str:
    params = f"{entry.num_parameters / 1e9:.1f}B parameters, " if entry.num_parameters >= 1e8 else ""
    return (
        f"ArtiMuse aesthetic score 0–100 and expert critiques (model {entry.name}: {params}"
        f"{_size(entry.size)} on disk, sha256 {entry.checksum[:12]})"
    )


def list_entries() -> list[BackendInfo]:
    """One BackendInfo for ``artimuse`` and one per installed model, each with a readable reason."""
    missing = missing_packages()
    package_reason = f"needs the Python packages {', '.join(missing)} ({install_hint()})" if missing else None
    try:
        entries = store.list_models()
    except ModelError as exc:
        return [BackendInfo("artimuse", "ArtiMuse aesthetic model", False, exc.user_text())]
    infos: list[BackendInfo] = []
    default = store.default_model()
    if default is None:
        infos.append(
            BackendInfo(
                name="artimuse",
                description="ArtiMuse aesthetic score 0–100 and expert critiques (default installed model)",
                available=False,
                # Without the packages a download cannot help yet: say that first.
                reason=(f"{package_reason}; then run `{DOWNLOAD_HINT}`" if package_reason else None)
                or f"no model installed: run `{DOWNLOAD_HINT}`",
            )
        )
        return infos
    for entry in [default, *entries]:
        problem = store.check_installed(entry)
        reason = package_reason or (f"model files incomplete: {problem}" if problem else None)
        is_alias = entry is default
        infos.append(
            BackendInfo(
                name="artimuse" if is_alias else f"artimuse:{entry.name}",
                description=_describe(entry) + (" [default model]" if is_alias else ""),
                available=reason is None,
                reason=reason or (f"installed; default model is {entry.name}" if is_alias else "installed"),
            )
        )
    return infos
