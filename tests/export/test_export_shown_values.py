"""Export ranks, reports and sidecars show the attribute value the side panel and the catalog's sorts show."""

from __future__ import annotations

import json
from pathlib import Path

from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.export.copier import execute_plan
from artimuse_desktop.export.plan import build_plan
from artimuse_desktop.export.report import write_reports
from artimuse_desktop.export.selection import Selection, select_photos
from artimuse_desktop.export.xmp import sidecar_data
from tests.factory import add_assessment, add_photo, set_score_model, write_jpeg

COMPOSITION = "Composition & Design"


def test_without_the_score_model_every_export_surface_takes_the_first_model_by_name(
    catalog: Catalog, tmp_path: Path
) -> None:
    photo = add_photo(catalog, write_jpeg(tmp_path / "photos" / "a.jpg"))
    # "zeta" is written first, so row order alone would pick it.
    add_assessment(catalog, photo, "zeta", 60.0, attributes={COMPOSITION: (80.0, "From zeta.")})
    add_assessment(catalog, photo, "alpha", 50.0, attributes={COMPOSITION: (30.0, "From alpha.")})
    set_score_model(catalog, "artimuse")  # not among them

    (ranked,) = select_photos(catalog, Selection(ids=[photo], by="attr:composition"))
    assert ranked.key_value == 30.0

    with catalog.read() as session:
        data = sidecar_data(ranked.record, queries.assessments_for(session, photo), "artimuse")
    assert data.attributes == {COMPOSITION: 30.0}

    dest = tmp_path / "out"
    result = execute_plan(build_plan([ranked], dest, template="{original}"))
    write_reports(catalog, [e.item for e in result.exported], dest, formats=["json"])
    document = json.loads((dest / "artimuse-export.json").read_text(encoding="utf-8"))
    cell = document["photos"][0]["attributes"][COMPOSITION]
    assert (cell["score"], cell["critique"], cell["model"]) == (30.0, "From alpha.", "alpha")
