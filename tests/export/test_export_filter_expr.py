"""``--filter`` expressions: parsed into a PhotoFilter, then run against a real catalog."""

from __future__ import annotations

import math
import os
from datetime import datetime

import pytest

from artimuse_desktop.catalog import queries
from artimuse_desktop.export.filter_expr import FilterExpressionError, parse_filter_expressions
from tests.export.export_helpers import Library


def test_decisions_and_scores() -> None:
    flt = parse_filter_expressions(["rating>=3", "flag=pick", "label=red,green", "score>=70", "score<95"])
    assert flt.min_rating == 3 and flt.max_rating is None
    assert flt.flags == {1}
    assert flt.color_labels == {"red", "green"}
    assert flt.min_score == 70
    assert flt.max_score == math.nextafter(95, -math.inf)


def test_exclusions_and_none() -> None:
    flt = parse_filter_expressions(["flag!=reject", "label=none", "status!=missing"])
    assert flt.flags == {0, 1}
    assert flt.color_labels == {None}
    assert flt.statuses == {"ok", "error", "trashed"}


def test_strict_integer_bounds_and_tightening() -> None:
    flt = parse_filter_expressions(["rating>2", "rating>=1", "rating<5"])
    assert (flt.min_rating, flt.max_rating) == (3, 4)


def test_attributes_measures_and_text() -> None:
    flt = parse_filter_expressions(
        [
            '"Composition & Design">=60',
            "attr:technical<=80",
            "emotion>50",
            "sharpness>=0.4",
            "measure:noise<=2",
            "camera=Canon",
            "lens~50mm",
            "search=sunset",
        ]
    )
    assert flt.attr_min["Composition & Design"] == 60
    assert flt.attr_max["Technical Execution"] == 80
    assert flt.attr_min["Emotion & Viewer Response"] == math.nextafter(50, math.inf)
    assert flt.measure_min == {"sharpness": 0.4}
    assert flt.measure_max == {"noise": 2}
    assert (flt.camera, flt.lens, flt.search) == ("Canon", "50mm", "sunset")


def test_dates_cover_whole_days() -> None:
    flt = parse_filter_expressions(["date=2024-05-18"])
    assert flt.date_from == datetime(2024, 5, 18)
    assert flt.date_to == datetime(2024, 5, 18, 23, 59, 59, 999999)
    flt = parse_filter_expressions(["date>2024-05-18", "date<2024-06-01T12:00"])
    assert flt.date_from == datetime(2024, 5, 19)
    assert flt.date_to == datetime(2024, 6, 1, 11, 59, 59, 999999)


def test_folder_is_made_absolute(tmp_path: object) -> None:
    flt = parse_filter_expressions(["folder=some/where"])
    assert flt.folder == os.path.abspath("some/where")


def test_score_none_and_scored() -> None:
    assert parse_filter_expressions(["score=none"]).scored is False
    assert parse_filter_expressions(["scored=yes"]).scored is True


def test_contradictions_match_nothing() -> None:
    flt = parse_filter_expressions(["flag=pick", "flag=reject"])
    assert flt.ids == []


@pytest.mark.parametrize(
    "expr",
    [
        "rating",
        "rating>=six",
        "rating>=7",
        "rating~3",
        "flag=maybe",
        "label=orange",
        "score>=nan",
        "camera>=Canon",
        "date>=yesterday",
        "scored=perhaps",
        ">=3",
        "attr:nonsense>=3",
        "rating>=3<=4",
    ],
)
def test_bad_expressions_say_why(expr: str) -> None:
    with pytest.raises(FilterExpressionError) as info:
        parse_filter_expressions([expr])
    assert "cannot understand the filter" in str(info.value)


def test_expressions_select_the_right_photos(library: Library) -> None:
    def ids(*exprs: str) -> set[int]:
        with library.catalog.read() as session:
            return set(queries.photo_ids(session, parse_filter_expressions(exprs)))

    by_name = library.ids
    assert ids("flag=pick") == {by_name["a_best.jpg"], by_name["c_mid.jpg"]}
    assert ids("rating>=3") == {by_name["a_best.jpg"], by_name["b_good.jpg"]}
    assert ids("label=red") == {by_name["a_best.jpg"]}
    assert ids("score>=70") == {by_name["a_best.jpg"], by_name["b_good.jpg"], by_name["pair/IMG_0001.CR2"]}
    assert ids("camera=nikon") == {by_name["b_good.jpg"]}
    assert ids("sharpness>=0.7") == {by_name["a_best.jpg"], by_name["b_good.jpg"]}
    assert ids('"Composition & Design">=58') == {by_name["a_best.jpg"]}
    assert ids("date=2024-05-02") == {by_name["c_mid.jpg"]}
    assert ids("score=none") == {by_name["d_unscored.jpg"], by_name["pair/IMG_0001.JPG"]}
