"""The photographer's path on the command line: index, score with ArtiMuse, critique, search the critiques."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from artimuse_desktop.catalog import Catalog, filters, queries
from artimuse_desktop.cli import main

from .conftest import FIXTURE_DIR

pytestmark = pytest.mark.model


def test_index_score_critique_and_search(
    use_tiny_store: Path, expected: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "shoot"
    shutil.copytree(FIXTURE_DIR / "images", library)
    catalog_path = tmp_path / "catalog.sqlite"
    base = ["--catalog", str(catalog_path)]
    assert main([*base, "index", str(library)]) == 0
    assert main([*base, "score", "--model", "artimuse", "--use", "--batch-size", "3"]) == 0
    capsys.readouterr()
    assert main([*base, "list", "--sort", "-score", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    by_name = {Path(row["path"]).name: row["score"] for row in listed}
    for name, reference in expected["images"].items():
        assert by_name[Path(name).name] == pytest.approx(reference["score"], abs=5e-4)
    assert [row["score"] for row in listed] == sorted(by_name.values(), reverse=True)

    top = max(by_name, key=lambda n: by_name[n])
    assert main([*base, "critique", str(library / top), "--attribute", "composition"]) == 0
    shown = capsys.readouterr().out
    reference = expected["images"][top]["chat"]["Composition & Design"]["response"]
    assert "-- Composition & Design" in shown and reference in shown

    with Catalog(catalog_path) as catalog, catalog.read() as session:
        photo_id = queries.photo_id_for_path(session, str(library / top))
        assert photo_id is not None
        (assessment,) = [a for a in queries.assessments_for(session, photo_id) if a.model.startswith("artimuse")]
        critiques = {a.attribute: a.critique for a in assessment.attributes}
        # The reference stops after 24 tokens; ours writes on, greedily, so it starts the same.
        assert list(critiques) == ["Composition & Design"]
        stored = critiques["Composition & Design"]
        assert stored is not None and stored.startswith(reference)
        word = re.findall(r"[A-Za-z]{4,}", stored)[0]
        assert photo_id in queries.photo_ids(session, filters.PhotoFilter(search=word))

    # Scoring again changes nothing and keeps the critique.
    assert main([*base, "score", "--model", "artimuse"]) == 0
    assert "Nothing to score" in capsys.readouterr().out
    assert main([*base, "score", "--model", "artimuse", "--rescore"]) == 0
    with Catalog(catalog_path) as catalog, catalog.read() as session:
        (assessment,) = [a for a in queries.assessments_for(session, photo_id) if a.model.startswith("artimuse")]
        assert {a.attribute: a.critique for a in assessment.attributes} == {"Composition & Design": stored}


def test_missing_photo_and_missing_model_give_clear_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--catalog", str(tmp_path / "c.sqlite")]
    assert main([*base, "critique", str(tmp_path / "nowhere.jpg")]) == 1
    assert "not in the catalog" in capsys.readouterr().err
    assert main([*base, "score", "--model", "artimuse"]) == 2
    err = capsys.readouterr().err
    assert "artimuse" in err and "not available" in err


def test_experimental_attribute_scores_from_the_command_line(use_tiny_store: Path, tmp_path: Path) -> None:
    library = tmp_path / "shoot"
    library.mkdir()
    shutil.copy(FIXTURE_DIR / "images" / "gradient_640x480.png", library)
    base = ["--catalog", str(tmp_path / "catalog.sqlite")]
    assert main([*base, "index", str(library)]) == 0
    assert main([*base, "score", "--model", "artimuse", "--experimental-attribute-scores"]) == 0
    with Catalog(tmp_path / "catalog.sqlite") as catalog, catalog.read() as session:
        (photo_id,) = queries.photo_ids(session)
        (assessment,) = [a for a in queries.assessments_for(session, photo_id) if a.model.startswith("artimuse")]
    assert assessment.model_version.endswith(".xattr")
    assert len(assessment.attributes) == 8
    assert all(a.experimental and a.score is not None and 0 <= a.score <= 100 for a in assessment.attributes)
    assert main([*base, "score", "--model", "technical", "--experimental-attribute-scores"]) == 2
