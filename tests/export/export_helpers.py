"""Helpers for export tests: the library they share, snapshots of the originals, exiftool.

Rows and JPEGs come from ``tests/factory.py``.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from artimuse_desktop.catalog import Catalog
from artimuse_desktop.vocabulary import ATTRIBUTES

REPO = Path(__file__).resolve().parents[2]
EXIFTOOL_CONFIG = REPO / "resources" / "exiftool" / "artimuse.config"


def digest(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes(), digest_size=32).hexdigest()


def snapshot(paths: Iterable[Path]) -> dict[Path, tuple[str, int]]:
    """Bytes digest and mtime of each file: the originals must look exactly like this after every export."""
    return {path: (digest(path), path.stat().st_mtime_ns) for path in paths}


def all_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())


@dataclass
class Library:
    """Photos on disk plus their catalog rows: ``ids[name]`` is the id of ``root/name``."""

    catalog: Catalog
    root: Path
    ids: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def path(self, name: str) -> Path:
        return self.root / name


FULL_ATTRIBUTES = {
    name: (50.0 + index * 3, f"{name} critique: balanced <b>light</b> & “quotes”")
    for index, name in enumerate(ATTRIBUTES)
}


def exiftool_json(path: Path, *args: str) -> dict[str, Any]:
    import json

    exe = shutil.which("exiftool")
    assert exe is not None
    output = subprocess.run(
        [exe, "-config", str(EXIFTOOL_CONFIG), "-j", "-G1", *args, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output)[0]
    return result


needs_exiftool = pytest.mark.skipif(
    shutil.which("exiftool") is None,
    reason="exiftool is not installed (Debian: libimage-exiftool-perl; `make test-debs` installs it)",
)
