"""The design card's rules, checked: Qt only in gui/, torch/transformers only when a model loads."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import artimuse_desktop

ROOT = Path(__file__).resolve().parent.parent


def _core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(artimuse_desktop.__path__, "artimuse_desktop."):
        if info.name.startswith(("artimuse_desktop.gui", "artimuse_desktop.catalog.migrations")) or info.name.endswith(
            "__main__"
        ):
            continue
        names.append(info.name)
    return names


def test_importing_the_core_and_the_cli_loads_no_qt_and_no_torch() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {_core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "import artimuse_desktop.cli as cli; cli.build_parser()\n"
        "heavy = {'PySide6', 'torch', 'transformers', 'safetensors', 'ray', 'psycopg'}\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & heavy)\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == ""


def test_the_gui_package_imports_no_torch_at_start_up() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import artimuse_desktop.gui as gui\n"
        "for info in pkgutil.walk_packages(gui.__path__, 'artimuse_desktop.gui.'):\n"
        "    importlib.import_module(info.name)\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'transformers'})))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == ""


def test_import_linter_contracts_hold() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "importlinter.cli", "lint-imports"], capture_output=True, text=True, cwd=ROOT
    )
    if result.returncode != 0 and "No module named" in result.stderr:
        result = subprocess.run(["lint-imports"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
