"""GUI test fixtures: an offscreen Qt, a real catalog with real JPEGs, a main window, and a check that no
background thread outlives a test. (User folders are isolated by tests/conftest.py.)"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from artimuse_desktop.catalog.db import Catalog, open_catalog


@pytest.fixture(autouse=True)
def no_dangling_threads(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail any test that leaves a GUI QThread, a pool thread or a pipeline thread running."""
    before = {t.ident for t in threading.enumerate()}
    yield
    from artimuse_desktop.gui.tasks import active_pool_threads
    from artimuse_desktop.gui.workers import running_threads

    alive = running_threads()
    assert not alive, f"QThreads still running after the test: {[t.objectName() for t in alive]}"
    assert active_pool_threads() == 0, "a QThreadPool still runs tasks after the test"
    deadline = datetime.now() + timedelta(seconds=5)
    leftover: list[threading.Thread] = []
    while datetime.now() < deadline:
        leftover = [
            t
            for t in threading.enumerate()
            if t.ident not in before and t.is_alive() and not t.daemon and t is not threading.main_thread()
        ]
        if not leftover:
            break
        threading.Event().wait(0.05)
    assert not leftover, f"Python threads left running: {[t.name for t in leftover]}"


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    cat = open_catalog(tmp_path / "catalog.sqlite")
    yield cat
    cat.close()


@dataclass(frozen=True)
class PhotoSpec:
    name: str
    folder: str = "shoot"
    flag: int = 0
    rating: int = 0
    color_label: str | None = None
    seconds: float = 0.0  # capture time offset
    phash: str | None = None
    camera: str = "X-T5"
    color: tuple[int, int, int] = (120, 130, 140)


def write_jpeg(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (96, 64)) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 8):  # some structure so it is not a flat file
        image.paste(tuple(min(255, c + 40) for c in color), (x, 0, x + 3, size[1]))
    image.save(path, "JPEG", quality=85)
    return path.stat().st_size


def add_photos(catalog: Catalog, root: Path, specs: Sequence[PhotoSpec]) -> list[int]:
    """Real JPEGs on disk plus their Photo rows (as the indexer would write them)."""
    from sqlalchemy import insert, select

    from artimuse_desktop.catalog.models import Photo

    start = datetime(2024, 5, 1, 10, 0, 0)
    rows: list[dict[str, Any]] = []
    for i, spec in enumerate(specs):
        path = root / spec.folder / spec.name
        size = write_jpeg(path, spec.color)
        rows.append(
            {
                "path": str(path),
                "folder": str(path.parent),
                "filename": spec.name,
                "size": size,
                "mtime": path.stat().st_mtime,
                "fingerprint": f"{i:02d}" + "ab" * 31,
                "format": "JPEG",
                "width": 96,
                "height": 64,
                "orientation": 1,
                "captured_at": start + timedelta(seconds=spec.seconds or i * 600),
                "camera_make": "Fujifilm",
                "camera_model": spec.camera,
                "lens": "XF23mmF2",
                "focal_length": 23.0,
                "aperture": 2.0,
                "shutter": 1 / 250,
                "iso": 400,
                "phash": spec.phash,
                "status": "ok",
                "flag": spec.flag,
                "rating": spec.rating,
                "color_label": spec.color_label,
            }
        )
    with catalog.write() as session:
        session.execute(insert(Photo), rows)
        paths = [r["path"] for r in rows]
        rows_found = session.execute(select(Photo.path, Photo.id).where(Photo.path.in_(paths))).all()
        found = {path: pid for path, pid in rows_found}
    return [found[r["path"]] for r in rows]


def add_assessment(
    catalog: Catalog,
    photo_id: int,
    model: str,
    score: float | None,
    *,
    attributes: dict[str, tuple[float | None, str | None, bool]] | None = None,
    measures: Sequence[tuple[str, float, str, bool | None, str | None]] = (),
    error: str | None = None,
    version: str = "1.0",
) -> None:
    from artimuse_desktop.catalog.models import Assessment, AttributeScore, MeasureValue

    with catalog.write() as session:
        assessment = Assessment(
            photo_id=photo_id,
            model=model,
            model_version=version,
            fingerprint=None,
            score=score,
            error=error,
            created_at=datetime(2025, 1, 2, 3, 4),
            current=True,
        )
        session.add(assessment)
        session.flush()
        for name, (value, critique, experimental) in (attributes or {}).items():
            session.add(
                AttributeScore(
                    assessment_id=assessment.id,
                    attribute=name,
                    score=value,
                    critique=critique,
                    experimental=experimental,
                    critique_model=model if critique else None,
                )
            )
        for name, value, unit, better, note in measures:
            session.add(
                MeasureValue(
                    assessment_id=assessment.id, name=name, value=value, unit=unit, higher_is_better=better, note=note
                )
            )


def set_score_model(catalog: Catalog, model: str) -> None:
    from artimuse_desktop.catalog.queries import set_score_model as _set

    with catalog.write() as session:
        _set(session, model)


@pytest.fixture
def photos(catalog: Catalog, tmp_path: Path) -> list[int]:
    """Ten photos in two folders with known decisions and scores (technical model scores everything;
    the "artimuse" model scores some, with attributes)."""
    specs = [
        PhotoSpec("alpha.jpg", "trip/day1", flag=1, rating=3, color=(200, 60, 60)),
        PhotoSpec("bravo.jpg", "trip/day1", rating=1, color=(60, 200, 60)),
        PhotoSpec("charlie.jpg", "trip/day1", flag=-1, color=(60, 60, 200)),
        PhotoSpec("delta.jpg", "trip/day2", rating=5, color_label="red", color=(200, 200, 60)),
        PhotoSpec("echo.jpg", "trip/day2", color=(60, 200, 200)),
        PhotoSpec("foxtrot.jpg", "trip/day2", flag=1, color=(200, 60, 200)),
        PhotoSpec("golf.jpg", "home", rating=2, color_label="blue", color=(150, 150, 150)),
        PhotoSpec("hotel.jpg", "home", color=(90, 90, 90)),
        PhotoSpec("india.jpg", "home", color=(30, 30, 30)),
        PhotoSpec("juliet.jpg", "home", color=(240, 240, 240)),
    ]
    ids = add_photos(catalog, tmp_path / "photos", specs)
    technical = [55.0, 72.5, 31.0, 88.0, 64.0, 47.0, 91.0, None, 12.0, 70.0]
    for pid, score in zip(ids, technical, strict=True):
        if score is not None:
            add_assessment(
                catalog,
                pid,
                "technical",
                score,
                measures=[("sharpness", score * 5, "", True, "crisp" if score > 50 else "soft")],
            )
    return ids


@pytest.fixture
def window(qtbot: Any, catalog: Catalog, tmp_path: Path) -> Iterator[Any]:
    from artimuse_desktop.gui.main_window import MainWindow
    from artimuse_desktop.settings import Settings

    win = MainWindow(catalog, Settings(score_after_indexing=False), settings_path=tmp_path / "settings.json")
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    wait_idle(qtbot, win)
    yield win
    win.close()
    win.deleteLater()


def wait_idle(qtbot: Any, win: Any, timeout: int = 10000) -> None:
    """Until every query the window asked for has been answered."""
    qtbot.waitUntil(win.is_idle, timeout=timeout)


def reload(qtbot: Any, win: Any) -> None:
    win.reload_view()
    wait_idle(qtbot, win)
