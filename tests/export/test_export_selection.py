"""Choosing and ranking what to export."""

from __future__ import annotations

import pytest

from artimuse_desktop.export.filter_expr import parse_filter_expressions
from artimuse_desktop.export.selection import Selection, select_photos
from tests.export.export_helpers import Library


def names(library: Library, selection: Selection) -> list[str]:
    by_id = {v: k for k, v in library.ids.items()}
    return [by_id[p.record.id] for p in select_photos(library.catalog, selection)]


def test_top_n_by_score_skips_unscored(library: Library) -> None:
    ranked = select_photos(library.catalog, Selection(top=3))
    assert [p.rank for p in ranked] == [1, 2, 3]
    assert names(library, Selection(top=3)) == ["a_best.jpg", "pair/IMG_0001.CR2", "b_good.jpg"]
    assert names(library, Selection(top=100))[-1] == "e_low.jpg"  # no unscored photo pads the list
    assert len(names(library, Selection(top=100))) == 5
    assert ranked[0].key_value == 90.0


def test_top_by_attribute_and_measure(library: Library) -> None:
    assert names(library, Selection(top=2, by="attr:composition")) == ["a_best.jpg", "b_good.jpg"]
    ranked = select_photos(library.catalog, Selection(top=2, by="measure:sharpness:asc"))
    assert [p.key_value for p in ranked] == [0.4, 0.6]


def test_picks_min_score_and_filters_combine(library: Library) -> None:
    assert set(names(library, Selection(picks=True))) == {"a_best.jpg", "c_mid.jpg"}
    assert names(library, Selection(picks=True, min_score=70)) == ["a_best.jpg"]
    assert names(library, Selection(min_score=60)) == [
        "a_best.jpg",
        "pair/IMG_0001.CR2",
        "b_good.jpg",
        "c_mid.jpg",
    ]
    flt = parse_filter_expressions(["camera=canon"])
    assert names(library, Selection(filter=flt, everything=True)) == ["a_best.jpg", "c_mid.jpg", "e_low.jpg"]
    assert flt.flags is None  # the caller's filter is not changed


def test_explicit_ids_keep_their_order(library: Library) -> None:
    ids = [library.ids["e_low.jpg"], library.ids["a_best.jpg"], library.ids["d_unscored.jpg"]]
    assert names(library, Selection(ids=ids)) == ["e_low.jpg", "a_best.jpg", "d_unscored.jpg"]
    assert names(library, Selection(ids=ids, by="score")) == ["a_best.jpg", "e_low.jpg"]


def test_empty_selection_is_refused(library: Library) -> None:
    with pytest.raises(ValueError):
        select_photos(library.catalog, Selection())
    with pytest.raises(ValueError):
        select_photos(library.catalog, Selection(top=0))
