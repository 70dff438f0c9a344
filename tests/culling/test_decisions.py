"""Decisions are saved at once and can be undone and redone, also after the catalog is reopened."""

from __future__ import annotations

from pathlib import Path

import pytest

from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from artimuse_desktop.culling import decisions
from tests.factory import add_photo


def state(catalog: Catalog, *ids: int) -> list[tuple[int, int, str | None]]:
    with catalog.read() as session:
        return [(r.flag, r.rating, r.color_label) for r in queries.records_by_ids(session, list(ids))]


def test_set_undo_redo_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    catalog = Catalog(path)
    a, b = add_photo(catalog, "/lib/a.jpg"), add_photo(catalog, "/lib/b.jpg")
    decisions.set_decision(catalog, [a, b], "flag", 1)
    decisions.set_decision(catalog, [b], "rating", 4)
    decisions.set_decision(catalog, [a], "color_label", "red")
    catalog.close()

    catalog = Catalog(path)  # as after a crash or a restart
    assert state(catalog, a, b) == [(1, 0, "red"), (1, 4, None)]
    assert decisions.undo(catalog) is not None
    assert state(catalog, a, b) == [(1, 0, None), (1, 4, None)]
    decisions.undo(catalog)
    decisions.undo(catalog)
    assert state(catalog, a, b) == [(0, 0, None), (0, 0, None)]
    assert decisions.undo(catalog) is None
    change = decisions.redo(catalog)
    assert change is not None and set(change.photo_ids) == {a, b}
    assert state(catalog, a, b) == [(1, 0, None), (1, 0, None)]
    # A new decision after undo drops the redo history.
    decisions.set_decision(catalog, [a], "flag", -1)
    assert decisions.redo(catalog) is None
    assert state(catalog, a, b) == [(-1, 0, None), (1, 0, None)]
    catalog.close()


def test_label_toggles_and_unchanged_values_make_no_undo_step(catalog: Catalog) -> None:
    a = add_photo(catalog, "/lib/a.jpg")
    decisions.set_decision(catalog, [a], "color_label", "green", toggle=True)
    decisions.set_decision(catalog, [a], "color_label", "green", toggle=True)
    assert state(catalog, a) == [(0, 0, None)]
    assert decisions.set_decision(catalog, [a], "rating", 0) is None
    decisions.undo(catalog)
    assert state(catalog, a) == [(0, 0, "green")]


@pytest.mark.parametrize(("field", "value"), [("flag", 2), ("rating", 6), ("rating", -1), ("color_label", "pink")])
def test_invalid_values_are_refused(catalog: Catalog, field: str, value: object) -> None:
    a = add_photo(catalog, "/lib/a.jpg")
    with pytest.raises(ValueError):
        decisions.set_decision(catalog, [a], field, value)  # type: ignore[arg-type]


def test_different_values_in_one_undo_step_on_a_large_selection(catalog: Catalog) -> None:
    from artimuse_desktop.catalog.models import Photo

    with catalog.write() as session:
        session.add_all(
            Photo(path=f"/big/{i}.jpg", folder="/big", filename=f"{i}.jpg", size=1, mtime=0.0, status="ok")
            for i in range(3000)
        )
    with catalog.read() as session:
        ids = queries.photo_ids(session, sort=SortSpec("id"))
    wanted = {pid: (1 if i % 3 == 0 else -1) for i, pid in enumerate(ids)}
    change = decisions.set_decisions(catalog, "flag", wanted)
    assert change is not None and len(change.photo_ids) == 3000
    with catalog.read() as session:
        assert queries.count_photos(session, PhotoFilter(flags={1})) == 1000
        assert queries.count_photos(session, PhotoFilter(flags={-1})) == 2000
    decisions.undo(catalog)
    with catalog.read() as session:
        assert queries.count_photos(session, PhotoFilter(flags={0})) == 3000
    decisions.redo(catalog)
    with catalog.read() as session:
        assert queries.count_photos(session, PhotoFilter(flags={1})) == 1000
