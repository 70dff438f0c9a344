"""Helpers for export tests: JPEG files made with Pillow, rows in a real catalog, assessments, exiftool."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from artimuse_desktop.catalog import Catalog
from artimuse_desktop.catalog.models import Assessment, AttributeScore, MeasureValue, Photo
from artimuse_desktop.vocabulary import ATTRIBUTES

REPO = Path(__file__).resolve().parents[2]
EXIFTOOL_CONFIG = REPO / "resources" / "exiftool" / "artimuse.config"


def write_jpeg(path: Path, seed: int = 0, size: tuple[int, int] = (96, 64)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, ((seed * 53) % 256, (seed * 97) % 256, (seed * 31) % 256))
    for x in range(0, size[0], 8):
        image.putpixel((x, (x * (seed + 1)) % size[1]), (255, 255, 255))
    image.save(path, "JPEG", quality=85)
    # A fixed, old mtime so that "mtime preserved" cannot pass by accident.
    os.utime(path, ns=(1_600_000_000_123_456_789 + seed, 1_600_000_000_123_456_789 + seed))
    return path


def add_photo(catalog: Catalog, path: Path, **fields: Any) -> int:
    """Insert a photo row for a file on disk (or a missing one); returns its id."""
    stat = path.stat() if path.exists() else None
    values: dict[str, Any] = {
        "path": str(path),
        "folder": str(path.parent),
        "filename": path.name,
        "size": stat.st_size if stat else 0,
        "mtime": stat.st_mtime if stat else 0.0,
        "format": path.suffix.lstrip(".").upper() or None,
        "width": 96,
        "height": 64,
        "indexed_at": datetime(2024, 5, 1),
    }
    values.update(fields)
    with catalog.write() as session:
        photo = Photo(**values)
        session.add(photo)
        session.flush()
        return photo.id


def add_assessment(
    catalog: Catalog,
    photo_id: int,
    model: str,
    score: float | None,
    *,
    attributes: Mapping[str, tuple[float | None, str | None]] | None = None,
    measures: dict[str, float] | None = None,
    version: str = "1.0",
) -> None:
    with catalog.write() as session:
        assessment = Assessment(
            photo_id=photo_id,
            model=model,
            model_version=version,
            score=score,
            created_at=datetime(2024, 5, 2),
            current=True,
        )
        session.add(assessment)
        session.flush()
        for name, (value, critique) in (attributes or {}).items():
            session.add(AttributeScore(assessment_id=assessment.id, attribute=name, score=value, critique=critique))
        for name, value in (measures or {}).items():
            session.add(
                MeasureValue(assessment_id=assessment.id, name=name, value=value, unit="score", higher_is_better=True)
            )


def set_score_model(catalog: Catalog, model: str) -> None:
    from artimuse_desktop.catalog import queries

    with catalog.write() as session:
        queries.set_score_model(session, model)


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
