"""The filter bar, the collections and the sort give exactly the rows the catalog's queries give."""

from __future__ import annotations

from typing import Any

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from artimuse_desktop.catalog.queries import photo_ids
from artimuse_desktop.gui.filter_choices import FLAG_CHOICES, RATING_CHOICES
from artimuse_desktop.vocabulary import ATTRIBUTES
from tests.factory import add_assessment, set_score_model

from .conftest import wait_idle


def names(window: Any) -> list[str]:
    result = []
    for pid in window.model.ids():
        record = window.model.record_for_id(pid)
        assert record is not None
        result.append(record.filename.removesuffix(".jpg"))
    return result


def expected(catalog: Catalog, flt: PhotoFilter, sort: SortSpec) -> list[int]:
    with catalog.read() as session:
        return photo_ids(session, flt, sort)


def test_default_view_is_every_photo_by_capture_time(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    assert window.model.ids() == photos  # inserted in capture order
    assert window.filter_bar.count_label.text() == "10 of 10 photos"
    assert len([v for v in window.filter_bar.histogram.counts() if v]) > 3


def test_sort_by_score_descending_puts_unscored_last(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    window.filter_bar.set_sort("score", True)
    wait_idle(qtbot, window)
    assert names(window) == [
        "golf",
        "delta",
        "bravo",
        "juliet",
        "echo",
        "alpha",
        "foxtrot",
        "charlie",
        "india",
        "hotel",
    ]
    window.filter_bar.set_sort("filename", False)
    wait_idle(qtbot, window)
    assert names(window) == sorted(names(window))
    window.filter_bar.set_sort("measure:sharpness", False)
    wait_idle(qtbot, window)
    assert window.model.ids() == expected(catalog, PhotoFilter(), SortSpec("measure:sharpness"))


def test_filters_combine_and_count(qtbot: Any, window: Any, catalog: Catalog, photos: list[int]) -> None:
    bar = window.filter_bar
    bar.flag_combo.setCurrentIndex([c[0] for c in FLAG_CHOICES].index("Picks & unflagged"))
    wait_idle(qtbot, window)
    assert "charlie" not in names(window) and len(names(window)) == 9
    bar.rating_combo.setCurrentIndex([c[0] for c in RATING_CHOICES].index("★ 1 or more"))
    wait_idle(qtbot, window)
    assert sorted(names(window)) == ["alpha", "bravo", "delta", "golf"]
    assert bar.count_label.text() == "4 of 10 photos"
    bar.set_score_range(60, None)
    wait_idle(qtbot, window)
    assert sorted(names(window)) == ["bravo", "delta", "golf"]
    bar.labels.buttons["red"].setChecked(True)
    wait_idle(qtbot, window)
    assert names(window) == ["delta"]
    bar.reset()
    wait_idle(qtbot, window)
    assert len(names(window)) == 10


def test_search_matches_file_names_and_critiques(qtbot: Any, window: Any, catalog: Catalog, photos: list[int]) -> None:
    add_assessment(
        catalog,
        photos[7],
        "artimuse",
        66.0,
        attributes={"Composition & Design": (70.0, "A lonely lighthouse on the horizon")},
    )
    bar = window.filter_bar
    bar.search.setText("golf")
    bar.apply_now()
    wait_idle(qtbot, window)
    assert names(window) == ["golf"]
    bar.search.setText("lighthouse")
    bar.apply_now()
    wait_idle(qtbot, window)
    assert names(window) == ["hotel"]


def test_attribute_and_measure_thresholds(qtbot: Any, window: Any, catalog: Catalog, photos: list[int]) -> None:
    for pid, value in zip(photos[:4], [40.0, 80.0, None, 95.0], strict=True):
        add_assessment(catalog, pid, "artimuse", 50.0, attributes={"Composition & Design": (value, None)})
    window.refresh_stats()
    wait_idle(qtbot, window)
    more = window.filter_bar.more
    assert "sharpness" in more.measure_spins
    more.attribute_spins[ATTRIBUTES[0]].setValue(75)
    window.filter_bar.apply_now()
    wait_idle(qtbot, window)
    assert names(window) == ["bravo", "delta"]  # absent never matches a threshold
    assert window.filter_bar.more_button.text() == "More filters (1)"
    more.reset()
    low, _high = more.measure_spins["sharpness"]
    low.setValue(400.0)  # sharpness = 5 × technical score
    window.filter_bar.apply_now()
    wait_idle(qtbot, window)
    assert sorted(names(window)) == ["delta", "golf"]  # 440 and 455
    window.filter_bar.set_sort("attr:Composition & Design", True)
    wait_idle(qtbot, window)
    flt = PhotoFilter(measure_min={"sharpness": 400.0})
    assert window.model.ids() == expected(catalog, flt, SortSpec("attr:Composition & Design", True))


def test_collections_and_folders(qtbot: Any, window: Any, catalog: Catalog, photos: list[int]) -> None:
    window.refresh_stats()
    wait_idle(qtbot, window)
    panel = window.collections
    counts = {kind: panel._smart[kind].text(1) for kind in panel._smart}
    assert counts["picks"] == "2" and counts["rejects"] == "1" and counts["all"] == "10"
    assert panel.select("picks")
    wait_idle(qtbot, window)
    assert sorted(names(window)) == ["alpha", "foxtrot"]
    assert window.filter_bar.count_label.text() == "2 of 2 photos"
    assert panel.select("unrated")
    wait_idle(qtbot, window)
    assert sorted(names(window)) == ["echo", "hotel", "india", "juliet"]
    assert panel.select("top10")
    wait_idle(qtbot, window)
    assert names(window) == ["golf"]
    folder = next(path for path in panel._folder_items if path.endswith("day2"))
    assert panel._folder_items[folder].text(1) == "3"
    trip = next(path for path in panel._folder_items if path.endswith("trip"))
    assert panel._folder_items[trip].text(1) == "6"  # sub-folders included
    assert panel.select("folder", folder)
    wait_idle(qtbot, window)
    assert names(window) == ["delta", "echo", "foxtrot"]


def test_score_model_switch_changes_the_score_shown(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    add_assessment(catalog, photos[0], "artimuse", 99.0)
    set_score_model(catalog, "artimuse")
    window.filter_bar.set_sort("score", True)
    wait_idle(qtbot, window)
    assert window.model.ids()[0] == photos[0]
    record = window.model.record_for_id(photos[0])
    assert record is not None and record.score == 99.0 and record.score_model == "artimuse"
    window.set_score_model("technical")
    wait_idle(qtbot, window)
    assert window.model.ids()[0] == photos[6]  # golf, 91 by technical
