"""The library's model versions (``library_stats.model_versions``): each model's current versions, read by
hops along the index of migration 0007, on SQLite and PostgreSQL, and on a released catalog upgraded to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from artimuse_desktop.catalog import Catalog, library_stats
from tests.catalog.frozen import assert_frozen_data, frozen_copy
from tests.factory import add_assessment, add_photo


def test_each_models_current_versions_in_order(catalog: Catalog) -> None:
    """Two versions while a rescore is under way, one model with a single version, and a version no photo
    shows any more (every photo it scored was scored again) left out."""
    photos = [add_photo(catalog, f"/lib/{n}.jpg") for n in range(4)]
    for photo in photos:
        add_assessment(catalog, photo, "artimuse:ArtiMuse", 60.0, version="w0")
    for photo in photos[:2]:  # the rescore has reached two photos
        add_assessment(catalog, photo, "artimuse:ArtiMuse", 61.0, version="w1")
    for photo in photos:
        add_assessment(catalog, photo, "technical", 50.0, version="t1")
        add_assessment(catalog, photo, "technical", 51.0, version="t2")  # every photo: t1 no longer shown
    with catalog.read() as session:
        assert library_stats.model_versions(session) == {"artimuse:ArtiMuse": ["w0", "w1"], "technical": ["t2"]}


def test_an_empty_catalog_has_no_versions(catalog: Catalog) -> None:
    with catalog.read() as session:
        assert library_stats.model_versions(session) == {}


@pytest.mark.sqlite_only
def test_a_released_catalog_upgraded_reads_its_versions_along_the_new_index(tmp_path: Path) -> None:
    """catalog-0006 gains the index on upgrade; every hop is an index search (a DISTINCT read every current
    assessment: 0.6 s at 300,000 photos, ``bench/bench_model_versions.py``)."""
    with Catalog(frozen_copy("catalog-0006.sqlite", tmp_path)) as catalog:
        assert_frozen_data(catalog)
        with catalog.read() as session:
            versions = library_stats.model_versions(session)
            assert versions and all(versions.values())
            plan = session.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT model_version FROM assessments WHERE current IS 1 "
                    "AND model = 'technical' AND model_version > '' ORDER BY model_version LIMIT 1"
                )
            ).all()
        assert "COVERING INDEX ix_assessments_current_model_version" in " ".join(str(row[-1]) for row in plan)
