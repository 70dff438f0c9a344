"""Which assessment an attribute's shown value comes from: the score model first, then the others by model name."""

from __future__ import annotations

from datetime import datetime

from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from artimuse_desktop.catalog.records import AssessmentRecord, AttributeRecord
from artimuse_desktop.catalog.shown_values import attribute_score, attribute_values
from tests.factory import add_assessment, add_photo

COMPOSITION = "Composition & Design"


def assessment(model: str, *attributes: AttributeRecord) -> AssessmentRecord:
    return AssessmentRecord(1, model, "1", None, None, datetime(2026, 6, 1), attributes, ())


def attribute(
    model: str, score: float | None, critique: str | None = None, experimental: bool = False
) -> AttributeRecord:
    return AttributeRecord(COMPOSITION, score, critique, experimental, model)


def test_the_score_model_wins_whatever_the_order() -> None:
    records = [
        assessment("alpha", attribute("alpha", 10.0)),
        assessment("zeta", attribute("zeta", 90.0, experimental=True)),
    ]
    for ordered in (records, records[::-1]):
        value = attribute_values(ordered, "zeta")[COMPOSITION]
        assert (value.score, value.model, value.experimental) == (90.0, "zeta", True)


def test_without_the_score_model_the_first_model_by_name_wins() -> None:
    records = [
        assessment("zeta", attribute("zeta", 80.0)),
        assessment("mid", attribute("mid", 50.0)),
        assessment("alpha", attribute("alpha", 30.0)),
        assessment("own"),  # the score model's assessment, without this attribute
    ]
    for ordered in (records, records[::-1], records[1:] + records[:1]):
        assert attribute_score(ordered, "own", COMPOSITION) == 30.0
        assert attribute_values(ordered, "own")[COMPOSITION].model == "alpha"


def test_score_and_critique_are_taken_separately() -> None:
    records = [
        assessment("own", attribute("own", 70.0)),
        assessment("beta", attribute("beta", 20.0, "Balanced diagonal.")),
        assessment("alpha", attribute("alpha", None, "")),  # an empty critique is no critique
    ]
    value = attribute_values(records, "own")[COMPOSITION]
    assert (value.score, value.critique, value.model) == (70.0, "Balanced diagonal.", "own")
    only_critique = attribute_values([assessment("beta", attribute("beta", None, "Tilted."))], "own")[COMPOSITION]
    assert (only_critique.score, only_critique.experimental, only_critique.model) == (None, False, "beta")


def test_sql_sort_and_filter_follow_the_same_tie_break(catalog: Catalog) -> None:
    # "zeta" is written first (lower row ids), so only the name order can make "alpha" win.
    photo = add_photo(catalog, "/lib/a.jpg")
    other = add_photo(catalog, "/lib/b.jpg")
    add_assessment(catalog, photo, model="zeta", attributes={COMPOSITION: (80.0, None)})
    add_assessment(catalog, photo, model="alpha", attributes={COMPOSITION: (30.0, None)})
    add_assessment(catalog, other, model="zeta", attributes={COMPOSITION: (50.0, None)})
    with catalog.read() as session:
        shown = attribute_score(queries.assessments_for(session, photo), "technical", COMPOSITION)
        assert shown == 30.0
        assert queries.photo_ids(session, PhotoFilter(attr_max={COMPOSITION: 40})) == [photo]
        assert queries.photo_ids(session, PhotoFilter(attr_min={COMPOSITION: 60})) == []
        assert queries.photo_ids(session, sort=SortSpec(f"attr:{COMPOSITION}", descending=True)) == [other, photo]
        # The score model's own value still comes first in SQL too.
        assert queries.photo_ids(session, PhotoFilter(attr_min={COMPOSITION: 60}), score_model="zeta") == [photo]
