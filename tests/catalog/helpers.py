"""Helpers to put rows straight into a real catalog for query tests (no images needed there)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from artimuse_desktop.catalog import Catalog
from artimuse_desktop.catalog.models import Assessment, AttributeScore, MeasureValue, Photo


def add_photo(catalog: Catalog, name: str, folder: str = "/lib", **fields: object) -> int:
    values: dict[str, object] = {
        "path": f"{folder}/{name}",
        "folder": folder,
        "filename": name,
        "size": 1000,
        "mtime": 0.0,
        "fingerprint": hashlib.blake2b(f"{folder}/{name}".encode(), digest_size=16).hexdigest(),
        "status": "ok",
        "flag": 0,
        "rating": 0,
        "captured_at": datetime(2026, 6, 1, 12, 0, 0),
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
    model: str = "technical",
    score: float | None = 50.0,
    attributes: dict[str, tuple[float | None, str | None]] | None = None,
    measures: dict[str, float] | None = None,
    version: str = "1",
) -> None:
    with catalog.write() as session:
        assessment = Assessment(
            photo_id=photo_id,
            model=model,
            model_version=version,
            score=score,
            created_at=datetime.now(),
            current=True,
        )
        for name, (value, critique) in (attributes or {}).items():
            assessment.attributes.append(AttributeScore(attribute=name, score=value, critique=critique))
        for name, value in (measures or {}).items():
            assessment.measures.append(MeasureValue(name=name, value=value, unit="", higher_is_better=True))
        session.add(assessment)


def day(n: int) -> datetime:
    return datetime(2026, 6, 1) + timedelta(days=n)
