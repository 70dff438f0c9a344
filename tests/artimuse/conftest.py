"""Fixtures for the ArtiMuse backend tests: the tiny reference checkpoint, installed the way a user's is.

The checkpoint goes through ``artimuse-desktop models add`` into a temporary model store once per session, and
the backend is created through the registry and loaded once (transformers' import alone takes seconds).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURE_DIR = Path(
    os.environ.get(
        "ARTIMUSE_TINY_FIXTURE",
        str(Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "artimuse-tiny"),
    )
)
MODEL_NAME = "tiny"


def _require_fixture() -> None:
    """Without the fixture the fidelity tests cannot run: skip on a developer's machine, fail loudly in CI."""
    if not (FIXTURE_DIR / "expected.json").is_file():
        message = f"the artimuse-tiny fixture is not at {FIXTURE_DIR} (set ARTIMUSE_TINY_FIXTURE)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def expected() -> dict[str, Any]:
    _require_fixture()
    data: dict[str, Any] = json.loads((FIXTURE_DIR / "expected.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def image_files(expected: dict[str, Any]) -> list[str]:
    return sorted(expected["images"])


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model store holding the fixture, added with the real command line (conversion included)."""
    _require_fixture()
    from artimuse_desktop.cli import main

    root = tmp_path_factory.mktemp("artimuse-store")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTIMUSE_MODELS_DIR", str(root))
        assert main(["models", "add", str(FIXTURE_DIR), "--name", MODEL_NAME]) == 0
    return root


@pytest.fixture
def use_tiny_store(tiny_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point this test's model store at the session store (the root conftest isolates every test)."""
    monkeypatch.setenv("ARTIMUSE_MODELS_DIR", str(tiny_store))
    return tiny_store


@pytest.fixture(scope="session")
def tiny_backend(tiny_store: Path) -> Iterator[Any]:
    """The installed fixture as an ArtiMuseBackend made by the registry, loaded on the CPU (float32)."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from artimuse_desktop.scoring.registry import create_backend

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARTIMUSE_MODELS_DIR", str(tiny_store))
        backend = create_backend(f"artimuse:{MODEL_NAME}")
        backend.load("cpu")
    yield backend
    backend.unload()


@pytest.fixture(scope="session")
def tiny_model(tiny_backend: Any) -> Any:
    """The LoadedModel inside the backend (model, tokenizer, spec)."""
    return tiny_backend.loaded


@pytest.fixture(scope="session")
def pixel_values(expected: dict[str, Any], image_files: list[str]) -> Any:
    """The 4 fixture images preprocessed by our code, ``[4, 3, 448, 448]`` in ``image_files`` order."""
    import numpy as np

    from artimuse_desktop.scoring.artimuse.preprocess import preprocess_path

    return np.stack([preprocess_path(str(FIXTURE_DIR / expected["images"][f]["file"])) for f in image_files])
