"""Scoring on a real local Ray cluster gives the local pipeline's results, resumes, and survives a lost actor."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from artimuse_desktop.catalog import Catalog
from artimuse_desktop.catalog.models import Assessment, Photo
from artimuse_desktop.cli import main
from artimuse_desktop.scoring.cluster.driver import RayScoringRun
from artimuse_desktop.scoring.cluster.workers import BackendSpec
from artimuse_desktop.scoring.pipeline import ScoringProgress, run_scoring
from artimuse_desktop.scoring.registry import create_backend
from tests.artimuse.conftest import FIXTURE_DIR, MODEL_NAME
from tests.factory import add_photo
from tests.images import write_jpeg

ROOT = Path(__file__).resolve().parents[2]


def make_library(folder: Path, catalog_path: Path, count: int, broken: bool = True) -> Path:
    """``count`` photo-like JPEGs of different sizes (and one truncated file) in a new catalog file."""
    with Catalog(catalog_path) as catalog:
        for i in range(count):
            size = (720, 480) if i % 2 else (480, 640)
            path = write_jpeg(folder / f"IMG_{i:04d}.jpg", *size, seed=i)
            add_photo(catalog, path, orientation=1)
        if broken:
            bad = folder / "broken.jpg"
            bad.write_bytes(b"\xff\xd8\xff\xe0 not a whole JPEG")
            add_photo(catalog, bad)
    return catalog_path


def stored(catalog_path: Path, model: str) -> dict[str, tuple[Any, ...]]:
    """Every stored assessment of ``model``: path -> (score, error, attributes, measures), comparable exactly."""
    with Catalog(catalog_path) as catalog, catalog.read() as session:
        rows = session.execute(
            select(Photo.path, Assessment)
            .join(Assessment, Assessment.photo_id == Photo.id)
            .where(Assessment.model == model)
        ).all()
        return {
            path: (
                a.score,
                a.error,
                a.model_version,
                sorted((x.attribute, x.score, x.experimental) for x in a.attributes),
                sorted((m.name, m.value, m.unit, m.higher_is_better, m.note) for m in a.measures),
            )
            for path, a in rows
        }


def copy_catalog(source: Path, target: Path) -> Path:
    shutil.copy(source, target)
    return target


def test_technical_on_ray_equals_the_local_pipeline_exactly(
    ray_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = make_library(tmp_path / "lib", tmp_path / "local.sqlite", 9)
    on_ray = copy_catalog(original, tmp_path / "ray.sqlite")
    with Catalog(original) as catalog:
        local = run_scoring(catalog, create_backend("technical"), batch_size=3)
    assert (local.scored, local.failed) == (9, 1)
    assert main(["--catalog", str(on_ray), "score", "--ray", "auto", "--batch-size", "3"]) == 0
    out = capsys.readouterr().out
    assert "9 scored, 1 failed of 10" in out and "on the Ray cluster at" in out
    expected, got = stored(original, "technical"), stored(on_ray, "technical")
    assert len(got) == 10 and got == expected
    # Resumable like the local pipeline: nothing is left to do.
    assert main(["--catalog", str(on_ray), "score", "--ray", "auto"]) == 0
    assert "Nothing to score" in capsys.readouterr().out


def test_a_cancelled_run_keeps_its_batches_and_the_rerun_scores_only_the_rest(
    ray_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog_path = make_library(tmp_path / "lib", tmp_path / "c.sqlite", 8, broken=False)
    with Catalog(catalog_path) as catalog:
        run = RayScoringRun(catalog, BackendSpec("technical"), batch_size=3)

        def cancel_after_first_batch(p: ScoringProgress) -> None:
            if p.done > 0:
                run.cancel.cancel()

        run.progress = cancel_after_first_batch
        summary = run.run()
    assert summary.cancelled and (summary.total, summary.scored) == (8, 3)
    assert len(stored(catalog_path, "technical")) == 3
    # Rerun through the explicit address of the running cluster: only the 5 missing photos are scored.
    address = ray_cluster.get_runtime_context().gcs_address
    assert main(["--catalog", str(catalog_path), "score", "--ray", address]) == 0
    assert "5 scored, 0 failed of 5" in capsys.readouterr().out
    assert len(stored(catalog_path, "technical")) == 8


def test_an_actor_killed_mid_run_costs_only_its_batches_in_flight(ray_cluster: Any, tmp_path: Path) -> None:
    original = make_library(tmp_path / "lib", tmp_path / "local.sqlite", 12, broken=False)
    on_ray = copy_catalog(original, tmp_path / "ray.sqlite")
    with Catalog(original) as catalog:
        run_scoring(catalog, create_backend("technical"), batch_size=2)
    killed: list[Any] = []
    with Catalog(on_ray) as catalog:
        run = RayScoringRun(catalog, BackendSpec("technical"), batch_size=2, actors=2)

        def kill_actors(p: ScoringProgress) -> None:
            # Once the actors are up and before the first batch is sent: the batches the driver then sends to
            # the victim are lost with it, deterministically. And once more after the first batch is stored.
            if (p.done == 0 and not killed) or (p.done > 0 and len(killed) == 1):
                killed.append(run.actors[0])
                ray_cluster.kill(run.actors[0], no_restart=True)

        run.progress = kill_actors
        summary = run.run()
    assert len(killed) == 2 and run.resubmitted >= 1 and run.replaced >= 1
    assert (summary.total, summary.scored, summary.failed, summary.cancelled) == (12, 12, 0, False)
    assert stored(on_ray, "technical") == stored(original, "technical")


@pytest.mark.model
def test_tiny_artimuse_on_ray_matches_the_local_scores(
    ray_cluster: Any, tiny_backend: Any, tiny_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARTIMUSE_MODELS_DIR", str(tiny_store))
    library = tmp_path / "shoot"
    shutil.copytree(FIXTURE_DIR / "images", library)
    original = tmp_path / "local.sqlite"
    with Catalog(original) as catalog:
        for path in sorted(library.iterdir()):
            add_photo(catalog, path)
    on_ray = copy_catalog(original, tmp_path / "ray.sqlite")
    with Catalog(original) as catalog:
        local = run_scoring(catalog, tiny_backend, batch_size=3)
    assert local.scored == len(list(library.iterdir()))
    model = f"artimuse:{MODEL_NAME}"
    assert main(["--catalog", str(on_ray), "score", "--model", model, "--ray", "auto", "--batch-size", "3"]) == 0
    expected, got = stored(original, model), stored(on_ray, model)
    assert got.keys() == expected.keys()
    for path, (score, error, version, _, _) in got.items():
        assert error is None and version == expected[path][2]
        assert score == pytest.approx(expected[path][0], abs=1e-5), path


def test_an_unreachable_address_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and nothing listens once the socket is closed
    address = f"127.0.0.1:{port}"
    assert main(["--catalog", str(tmp_path / "c.sqlite"), "score", "--ray", address]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach the Ray cluster at {address}" in err and "ray start --head" in err


def test_without_ray_installed_the_error_says_how_to_get_it(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['ray'] = None  # as on a machine without the package\n"
        "from artimuse_desktop.cli import main\n"
        f"sys.exit(main(['--catalog', {str(tmp_path / 'c.sqlite')!r}, 'score', '--ray', 'auto']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "needs the Python package ray" in result.stderr and "artimuse-desktop[studio]" in result.stderr
