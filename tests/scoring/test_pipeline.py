"""The batched pipeline with the real technical backend on real JPEGs and a real catalog file."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.catalog.models import Assessment
from artimuse_desktop.errors import OutOfMemoryError
from artimuse_desktop.scoring.backend import Availability
from artimuse_desktop.scoring.pipeline import ScoringProgress, run_scoring
from artimuse_desktop.scoring.registry import create_backend
from artimuse_desktop.scoring.types import PhotoInput, ScoreResult
from tests.factory import add_photo
from tests.images import write_jpeg


def make_library(catalog: Catalog, folder: Path, count: int, size: tuple[int, int] = (900, 600)) -> list[int]:
    ids = []
    for i in range(count):
        path = write_jpeg(folder / f"IMG_{i:04d}.jpg", *size, seed=i)
        ids.append(add_photo(catalog, path, fingerprint=f"{i + 1:032x}"))
    return ids


def scored_count(catalog: Catalog, model: str = "technical") -> int:
    with catalog.read() as session:
        return int(
            session.execute(
                select(func.count())
                .select_from(Assessment)
                .where(Assessment.model == model, Assessment.error.is_(None))
            ).scalar_one()
        )


def test_scores_in_batches_records_failures_and_skips_up_to_date_photos(catalog: Catalog, tmp_path: Path) -> None:
    ids = make_library(catalog, tmp_path / "lib", 5)
    broken = tmp_path / "lib" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 definitely not a whole JPEG")
    broken_id = add_photo(catalog, broken, fingerprint="b" * 32)
    backend = create_backend("technical")
    backend.load("cpu")
    seen: list[ScoringProgress] = []
    summary = run_scoring(catalog, backend, batch_size=2, progress=seen.append)
    assert (summary.total, summary.scored, summary.failed, summary.cancelled) == (6, 5, 1, False)
    assert summary.failures[0][0].endswith("broken.jpg") and summary.failures[0][1]
    assert [p.done for p in seen] == sorted(p.done for p in seen) and seen[-1].done == 6
    assert all(p.total == 6 for p in seen)
    with catalog.read() as session:
        records = queries.records_by_ids(session, [*ids, broken_id])
        assert all(r.score is not None and 0 <= r.score <= 100 for r in records[:5])
        assert records[5].score is None  # a failure is absent, never 0
        (assessment,) = queries.assessments_for(session, ids[0])
        names = {a.attribute for a in assessment.attributes}
        assert "Technical Execution" in names and "Originality & Creativity" not in names
        assert {m.name for m in assessment.measures} >= {"sharpness"}
    # Nothing changed: nothing to do. A failed photo is not retried unless asked.
    assert run_scoring(catalog, backend).total == 0
    assert run_scoring(catalog, backend, retry_failed=True).total == 1
    assert run_scoring(catalog, backend, rescore=True).total == 6


def test_changed_content_or_model_version_is_rescored(catalog: Catalog, tmp_path: Path) -> None:
    ids = make_library(catalog, tmp_path / "lib", 3)
    backend = create_backend("technical")
    run_scoring(catalog, backend)
    with catalog.write() as session:
        from artimuse_desktop.catalog.models import Photo

        photo = session.get(Photo, ids[1])
        assert photo is not None
        photo.fingerprint = "e" * 32
    assert run_scoring(catalog, backend).total == 1
    backend.version = backend.version + "-next"  # type: ignore[misc]
    summary = run_scoring(catalog, backend)
    assert summary.total == 3
    with catalog.read() as session:
        rows = session.execute(select(Assessment.model_version, Assessment.current)).all()
    assert sorted(rows) == sorted([(backend.version, True)] * 3 + [(backend.version[:-5], False)] * 3)


def test_cancel_stops_between_batches_and_the_next_run_continues(catalog: Catalog, tmp_path: Path) -> None:
    make_library(catalog, tmp_path / "lib", 6)
    backend = create_backend("technical")
    cancel = CancelToken()

    def stop_after_first_batch(progress: ScoringProgress) -> None:
        if progress.done >= 2:
            cancel.cancel()

    summary = run_scoring(catalog, backend, batch_size=2, progress=stop_after_first_batch, cancel=cancel)
    assert summary.cancelled and summary.scored == 2
    assert scored_count(catalog) == 2
    assert run_scoring(catalog, backend, batch_size=2).scored == 4


class PickyBackend:
    """A backend whose device fits 2 photos per batch and never fits one particular photo."""

    name = "picky"
    version = "1"
    description = "test backend with a small device"
    supports_critique = False

    def __init__(self, never_fits: str) -> None:
        self.never_fits = never_fits
        self.batch_sizes: list[int] = []

    def availability(self) -> Availability:
        return Availability(True, "test")

    def load(self, device: str = "auto") -> None:
        pass

    def unload(self) -> None:
        pass

    def prepare(self, item: PhotoInput) -> Any:
        return item.path

    def score_batch(self, prepared: Sequence[Any]) -> list[ScoreResult]:
        self.batch_sizes.append(len(prepared))
        if len(prepared) > 2 or any(p.endswith(self.never_fits) for p in prepared):
            raise OutOfMemoryError("CUDA out of memory (test)")
        return [ScoreResult(score=42.0) for _ in prepared]

    def critique(self, *args: Any, **kwargs: Any) -> dict[str, str]:
        raise NotImplementedError


def test_out_of_memory_halves_the_batch_and_records_what_never_fits(catalog: Catalog, tmp_path: Path) -> None:
    make_library(catalog, tmp_path / "lib", 9, size=(64, 48))
    backend = PickyBackend(never_fits="IMG_0005.jpg")
    summary = run_scoring(catalog, backend, batch_size=8)  # type: ignore[arg-type]
    assert (summary.scored, summary.failed) == (8, 1)
    assert "out of memory" in summary.failures[0][1] and summary.failures[0][0].endswith("IMG_0005.jpg")
    assert backend.batch_sizes[0] == 8 and max(backend.batch_sizes[1:]) <= 4
    assert 1 in backend.batch_sizes


def test_a_run_killed_with_sigkill_loses_at_most_the_batch_in_flight(tmp_path: Path) -> None:
    catalog_path = tmp_path / "catalog.sqlite"
    catalog = Catalog(catalog_path)
    total = 16  # large frames, so a batch takes long enough for the kill to land mid-run
    make_library(catalog, tmp_path / "lib", total, size=(2400, 1600))
    catalog.close()
    command = [
        sys.executable,
        "-m",
        "artimuse_desktop",
        "--catalog",
        str(catalog_path),
        "score",
        "--batch-size",
        "2",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    # The progress line (stderr, one per 10 % off a terminal) comes after each batch is committed: kill the
    # run as soon as it says 4 photos are done.
    for line in process.stderr:
        done = re.search(rf"\] (\d+)/{total} ", line)
        if done and int(done.group(1)) >= 4:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()
    watcher = Catalog(catalog_path)
    after_kill = scored_count(watcher)
    assert 4 <= after_kill < total, "the run finished before it could be killed; make the library larger"
    assert watcher.integrity_check() == "ok"
    watcher.close()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    catalog = Catalog(catalog_path)
    assert catalog.integrity_check() == "ok"
    assert scored_count(catalog) == total
    with catalog.read() as session:
        duplicates = session.execute(
            select(Assessment.photo_id).group_by(Assessment.photo_id, Assessment.model).having(func.count() > 1)
        ).all()
    assert duplicates == []
    assert f"{total - after_kill} scored" in result.stdout
