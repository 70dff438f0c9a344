"""Reports beside an export: CSV and JSON parse back, the HTML contact sheet is self-contained and escaped."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from artimuse_desktop.catalog.models import AttributeScore
from artimuse_desktop.export.copier import execute_plan
from artimuse_desktop.export.plan import build_plan
from artimuse_desktop.export.report import write_reports
from artimuse_desktop.export.selection import Selection, select_photos
from artimuse_desktop.vocabulary import ATTRIBUTES
from tests.export.export_helpers import Library


def export(library: Library, dest: Path, top: int = 3) -> list[Path]:
    plan = build_plan(select_photos(library.catalog, Selection(top=top)), dest, template="{rank}_{original}")
    result = execute_plan(plan)
    return write_reports(library.catalog, [e.item for e in result.exported], dest)


def test_csv_and_json_parse_back(library: Library, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    paths = export(library, dest)
    assert [p.name for p in paths] == ["artimuse-export.csv", "artimuse-export.json", "contact-sheet.html"]
    with open(dest / "artimuse-export.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["exported_name"] for r in rows] == ["001_a_best.jpg", "002_IMG_0001.CR2", "003_b_good.jpg"]
    best = rows[0]
    assert best["rank"] == "1" and float(best["score"]) == 90.0 and best["score_model"] == "artimuse"
    assert (best["flag"], best["rating"], best["label"]) == ("pick", "5", "red")
    assert best["source_path"] == str(library.path("a_best.jpg"))
    assert float(best["Composition & Design score"]) == 59.0
    assert best["Overall Gestalt critique"].startswith("Overall Gestalt critique: balanced <b>light</b>")
    assert float(best["measure:sharpness"]) == 0.9
    assert rows[1]["companions"].split(";") == [
        "002_IMG_0001.JPG",
        "002_IMG_0001.AAE",
        "002_IMG_0001.xmp",
        "002_IMG_0001.CR2.xmp",
    ]
    assert rows[1]["Composition & Design score"] == ""  # absent stays absent, never 0

    document = json.loads((dest / "artimuse-export.json").read_text(encoding="utf-8"))
    assert document["score_model"] == "artimuse"
    assert document["attributes"] == list(ATTRIBUTES)
    first = document["photos"][0]
    assert first["exported_name"] == "001_a_best.jpg" and first["rank"] == 1 and first["score"] == 90.0
    assert first["decisions"] == {"flag": "pick", "rating": 5, "label": "red"}
    assert set(first["attributes"]) == set(ATTRIBUTES)
    assert first["attributes"]["Technical Execution"]["score"] == 65.0
    assert "“quotes”" in first["attributes"]["Technical Execution"]["critique"]
    assert first["measures"]["sharpness"] == {"value": 0.9, "unit": "score", "higher_is_better": True}
    assert document["photos"][1]["attributes"] == {}


def test_html_contact_sheet_is_self_contained_and_escaped(library: Library, tmp_path: Path) -> None:
    with library.catalog.write() as session:
        row = session.query(AttributeScore).filter_by(attribute="Theme & Communication").first()
        assert row is not None
        row.critique = '<script>alert("x")</script> & more'
    dest = tmp_path / "out"
    export(library, dest, top=5)
    page = (dest / "contact-sheet.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    for name in ("001_a_best.jpg", "002_IMG_0001.CR2", "005_e_low.jpg"):
        assert name in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in page
    assert "balanced &lt;b&gt;light&lt;/b&gt;" in page
    # Thumbnails are embedded (the RAW shows its JPEG partner), nothing points at other files.
    assert len(re.findall(r'src="data:image/jpeg;base64,[A-Za-z0-9+/=]+"', page)) == 5
    assert not re.search(r'(src|href)="(?!data:)', page)


def test_reports_never_overwrite_and_guard_formulas(library: Library, tmp_path: Path) -> None:
    with library.catalog.write() as session:
        row = session.query(AttributeScore).filter_by(attribute="Overall Gestalt").first()
        assert row is not None
        row.critique = '=HYPERLINK("http://example.com")'
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "artimuse-export.csv").write_text("mine", encoding="utf-8")
    export(library, dest, top=1)
    assert (dest / "artimuse-export.csv").read_text(encoding="utf-8") == "mine"
    with open(dest / "artimuse-export (2).csv", encoding="utf-8-sig", newline="") as handle:
        (row_dict,) = list(csv.DictReader(handle))
    assert row_dict["Overall Gestalt critique"] == '\'=HYPERLINK("http://example.com")'
    assert not [p for p in dest.iterdir() if p.name.endswith(".partial")]
