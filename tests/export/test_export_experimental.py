"""Experimental attribute scores are labelled experimental in every report and in the XMP sidecars."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import update

from artimuse_desktop.catalog.models import AttributeScore
from artimuse_desktop.export.xmp import write_sidecars
from tests.export.export_helpers import Library, exiftool_json, needs_exiftool
from tests.export.test_export_report import export


def mark_experimental(library: Library, attribute: str) -> None:
    with library.catalog.write() as session:
        session.execute(update(AttributeScore).where(AttributeScore.attribute == attribute).values(experimental=True))


def test_reports_say_which_attribute_scores_are_experimental(library: Library, tmp_path: Path) -> None:
    mark_experimental(library, "Overall Gestalt")
    dest = tmp_path / "out"
    export(library, dest)
    with open(dest / "artimuse-export.csv", encoding="utf-8-sig", newline="") as handle:
        best = next(csv.DictReader(handle))
    assert best["Overall Gestalt score experimental"] == "experimental"
    assert best["Composition & Design score experimental"] == ""
    data = json.loads((dest / "artimuse-export.json").read_text(encoding="utf-8"))
    attributes = data["photos"][0]["attributes"] if "photos" in data else data[0]["attributes"]
    assert attributes["Overall Gestalt"]["experimental"] is True
    assert attributes["Composition & Design"]["experimental"] is False
    html = (dest / "contact-sheet.html").read_text(encoding="utf-8")
    assert 'Overall Gestalt <span class="exp">experimental</span>' in html


@needs_exiftool
def test_sidecars_list_the_experimental_attribute_scores(library: Library) -> None:
    mark_experimental(library, "Overall Gestalt")
    photo_id = library.ids["a_best.jpg"]
    result = write_sidecars(library.catalog, [photo_id], "lightroom")
    (sidecar,) = result.written
    tags = exiftool_json(sidecar, "-XMP-artimuse:all")
    assert tags["XMP-artimuse:ExperimentalAttributes"] == "OverallGestalt"
    assert tags["XMP-artimuse:OverallGestalt"] is not None
