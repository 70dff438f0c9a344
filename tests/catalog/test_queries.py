"""Sorting, filtering and search over a real catalog file."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from artimuse_desktop.catalog import Catalog, library_stats, queries
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from tests.factory import add_assessment, add_photo


def day(n: int) -> datetime:
    return datetime(2026, 6, 1) + timedelta(days=n)


@pytest.fixture
def library(catalog: Catalog) -> dict[str, int]:
    ids = {
        "a": add_photo(
            catalog,
            "/lib/a.jpg",
            rating=5,
            flag=1,
            color_label="red",
            camera_make="Canon",
            camera_model="EOS R5",
            captured_at=day(1),
        ),
        "b": add_photo(
            catalog, "/lib/b.jpg", rating=2, flag=-1, camera_make="NIKON", camera_model="Z 8", captured_at=day(2)
        ),
        "c": add_photo(
            catalog,
            "/lib/sub/c.jpg",
            rating=3,
            color_label="green",
            captured_at=day(3),
            lens="RF 85mm F1.2",
        ),
        "d": add_photo(catalog, "/lib/sub/deeper/d.jpg", captured_at=None),
        "e": add_photo(catalog, "/library2/e.jpg", status="missing", captured_at=day(0)),
    }
    add_assessment(
        catalog,
        ids["a"],
        score=80,
        attributes={"Technical Execution": (90, "Tack sharp eyes.")},
        measures={"sharpness": 0.9},
    )
    add_assessment(
        catalog,
        ids["b"],
        score=20,
        attributes={"Technical Execution": (10, "Blurred by motion.")},
        measures={"sharpness": 0.1},
    )
    add_assessment(
        catalog,
        ids["c"],
        score=55,
        attributes={"Composition & Design": (70, None)},
        measures={"sharpness": 0.5},
    )
    add_assessment(
        catalog,
        ids["c"],
        model="artimuse:ArtiMuse",
        score=66.6,
        attributes={"Composition & Design": (40, "Balanced diagonal.")},
    )
    return ids


def ids_of(catalog: Catalog, flt: PhotoFilter | None = None, sort: SortSpec | None = None, **kw: object) -> list[int]:
    with catalog.read() as session:
        return queries.photo_ids(session, flt, sort, **kw)  # type: ignore[arg-type]


def test_score_sort_puts_absent_scores_last_both_ways(catalog: Catalog, library: dict[str, int]) -> None:
    a, b, c, d, e = (library[k] for k in "abcde")
    assert ids_of(catalog, sort=SortSpec("score", descending=True)) == [a, c, b, d, e]
    assert ids_of(catalog, sort=SortSpec("score")) == [b, c, a, d, e]


def test_the_chosen_score_model_drives_score(catalog: Catalog, library: dict[str, int]) -> None:
    with catalog.write() as session:
        queries.set_score_model(session, "artimuse:ArtiMuse")
    with catalog.read() as session:
        records = queries.query_photos(session, PhotoFilter(scored=True))
        assert [(r.id, r.score, r.score_model) for r in records] == [(library["c"], 66.6, "artimuse:ArtiMuse")]


def test_filters_combine(catalog: Catalog, library: dict[str, int]) -> None:
    a, b, c, d, e = (library[k] for k in "abcde")
    assert ids_of(catalog, PhotoFilter(min_rating=3), SortSpec("filename")) == [a, c]
    assert ids_of(catalog, PhotoFilter(flags={1, -1}, min_score=50)) == [a]
    assert ids_of(catalog, PhotoFilter(color_labels={"green", None}), SortSpec("filename")) == [b, c, d, e]
    assert ids_of(catalog, PhotoFilter(camera="canon")) == [a]
    assert ids_of(catalog, PhotoFilter(lens="85mm")) == [c]
    assert ids_of(catalog, PhotoFilter(date_from=day(2), date_to=day(3)), SortSpec("captured_at")) == [b, c]
    assert ids_of(catalog, PhotoFilter(statuses={"missing"})) == [e]
    assert ids_of(catalog, PhotoFilter(scored=False), SortSpec("filename")) == [d, e]


def test_folder_filter_is_recursive_by_prefix_not_by_string(catalog: Catalog, library: dict[str, int]) -> None:
    a, b, c, d = (library[k] for k in "abcd")
    assert ids_of(catalog, PhotoFilter(folder="/lib"), SortSpec("filename")) == [a, b, c, d]  # not /library2
    assert ids_of(catalog, PhotoFilter(folder="/lib", recursive=False), SortSpec("filename")) == [a, b]
    assert ids_of(catalog, PhotoFilter(folder="/lib/sub/"), SortSpec("filename")) == [c, d]


def test_attribute_and_measure_sorts_and_thresholds(catalog: Catalog, library: dict[str, int]) -> None:
    a, b, c, d, e = (library[k] for k in "abcde")
    assert ids_of(catalog, sort=SortSpec.parse("-measure:sharpness")) == [a, c, b, d, e]
    assert ids_of(catalog, PhotoFilter(measure_min={"sharpness": 0.4}), SortSpec("filename")) == [a, c]
    assert ids_of(catalog, sort=SortSpec.parse('attr:"technical execution":desc'))[:2] == [a, b]
    # The score model's attribute wins; another model's is the fallback.
    with catalog.write() as session:
        queries.set_score_model(session, "artimuse:ArtiMuse")
    assert ids_of(catalog, PhotoFilter(attr_min={"Composition & Design": 50})) == []
    assert ids_of(catalog, PhotoFilter(attr_max={"Composition & Design": 50})) == [c]


def test_search_finds_file_names_and_critique_words(catalog: Catalog, library: dict[str, int]) -> None:
    assert ids_of(catalog, PhotoFilter(search="sharp")) == [library["a"]]
    assert ids_of(catalog, PhotoFilter(search="diagonal balanced")) == [library["c"]]
    assert ids_of(catalog, PhotoFilter(search="b.jp")) == [library["b"]]
    assert ids_of(catalog, PhotoFilter(search='"; DROP TABLE photos; --')) == []
    assert ids_of(catalog, PhotoFilter(search="100%_")) == []


def test_counts_histogram_percentile_and_paging(catalog: Catalog, library: dict[str, int]) -> None:
    with catalog.read() as session:
        assert queries.count_photos(session) == 5
        assert queries.count_photos(session, PhotoFilter(min_rating=1)) == 3
        assert sorted(library_stats.score_values(session)) == [20, 55, 80]
        assert library_stats.score_percentile(session, 0.67) == 55
        page = queries.photo_ids(session, sort=SortSpec("filename"), limit=2, offset=1)
        assert page == [library["b"], library["c"]]
        assert [r.id for r in queries.records_by_ids(session, page[::-1])] == page[::-1]
        assert library_stats.measure_names(session) == ["sharpness"]
        assert dict(library_stats.folder_counts(session))["/lib/sub"] == 1


def test_sort_spec_parsing() -> None:
    assert SortSpec.parse("-score") == SortSpec("score", True)
    assert SortSpec.parse("attr:composition") == SortSpec("attr:Composition & Design", False)
    assert SortSpec.parse("measure:noise:desc") == SortSpec("measure:noise", True)
    with pytest.raises(ValueError, match="unknown sort key"):
        SortSpec.parse("colour")
