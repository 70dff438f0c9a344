"""A small real library for export tests: JPEG files made with Pillow, rows in a real catalog, assessments."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from artimuse_desktop.catalog import Catalog
from artimuse_desktop.scoring.types import Measure
from tests.export.export_helpers import FULL_ATTRIBUTES, Library
from tests.factory import add_assessment, add_photo, set_score_model, write_jpeg


@pytest.fixture
def library(catalog: Catalog, tmp_path: Path) -> Library:
    """Five JPEGs with scores 90, 75, 60, none and 40; one RAW+JPEG pair with sidecars; decisions set."""
    from artimuse_desktop.culling.decisions import set_decision

    root = tmp_path / "photos"
    lib = Library(catalog, root)
    specs = [
        ("a_best.jpg", 90.0, datetime(2024, 5, 3, 10, 0), "Canon", "Canon EOS R5"),
        ("b_good.jpg", 75.0, datetime(2024, 5, 1, 9, 0), "NIKON CORPORATION", "Z 8"),
        ("c_mid.jpg", 60.0, datetime(2024, 5, 2, 8, 0), "Canon", "Canon EOS R5"),
        ("d_unscored.jpg", None, None, None, None),
        ("e_low.jpg", 40.0, datetime(2024, 5, 4, 7, 0), "Canon", "Canon EOS R5"),
    ]
    for seed, (name, score, when, make, model) in enumerate(specs):
        path = write_jpeg(root / name, seed)
        photo_id = add_photo(catalog, path, captured_at=when, camera_make=make, camera_model=model, lens="RF 50mm")
        lib.ids[name] = photo_id
        lib.files.append(path)
        if score is not None:
            attributes = {k: (v[0] + score / 10, v[1]) for k, v in FULL_ATTRIBUTES.items()}
            add_assessment(catalog, photo_id, "artimuse", score, attributes=attributes)
            sharpness = Measure("sharpness", score / 100, "score", True)
            add_assessment(catalog, photo_id, "technical", score / 2, measures=[sharpness])
    set_score_model(catalog, "artimuse")
    # A RAW+JPEG pair with both sidecar styles and an Apple edit file.
    raw = root / "pair" / "IMG_0001.CR2"
    raw.parent.mkdir(parents=True)
    raw.write_bytes(os.urandom(5000))
    os.utime(raw, ns=(1_500_000_000_000_000_000, 1_500_000_000_000_000_000))
    jpeg = write_jpeg(root / "pair" / "IMG_0001.JPG", 9)
    for sidecar in ("IMG_0001.xmp", "IMG_0001.CR2.xmp", "IMG_0001.AAE"):
        (root / "pair" / sidecar).write_text(f"<!-- {sidecar} -->\n", encoding="utf-8")
    lib.ids["pair/IMG_0001.CR2"] = add_photo(catalog, raw, captured_at=datetime(2024, 5, 5), format="CR2")
    lib.ids["pair/IMG_0001.JPG"] = add_photo(catalog, jpeg, captured_at=datetime(2024, 5, 5))
    add_assessment(catalog, lib.ids["pair/IMG_0001.CR2"], "artimuse", 85.0)
    lib.files += [
        raw,
        jpeg,
        *(root / "pair" / s for s in ("IMG_0001.xmp", "IMG_0001.CR2.xmp", "IMG_0001.AAE")),
    ]
    set_decision(catalog, [lib.ids["a_best.jpg"], lib.ids["c_mid.jpg"]], "flag", 1)
    set_decision(catalog, [lib.ids["e_low.jpg"]], "flag", -1)
    set_decision(catalog, [lib.ids["a_best.jpg"]], "rating", 5)
    set_decision(catalog, [lib.ids["b_good.jpg"]], "rating", 3)
    set_decision(catalog, [lib.ids["a_best.jpg"]], "color_label", "red")
    return lib
