"""Decisions are saved at once and can be undone and redone, also after the catalog is reopened."""

from __future__ import annotations

from pathlib import Path

import pytest

from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.culling import decisions
from tests.catalog.helpers import add_photo


def state(catalog: Catalog, *ids: int) -> list[tuple[int, int, str | None]]:
    with catalog.read() as session:
        return [(r.flag, r.rating, r.color_label) for r in queries.records_by_ids(session, list(ids))]


def test_set_undo_redo_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    catalog = Catalog(path)
    a, b = add_photo(catalog, "a.jpg"), add_photo(catalog, "b.jpg")
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
    a = add_photo(catalog, "a.jpg")
    decisions.set_decision(catalog, [a], "color_label", "green", toggle=True)
    decisions.set_decision(catalog, [a], "color_label", "green", toggle=True)
    assert state(catalog, a) == [(0, 0, None)]
    assert decisions.set_decision(catalog, [a], "rating", 0) is None
    decisions.undo(catalog)
    assert state(catalog, a) == [(0, 0, "green")]


@pytest.mark.parametrize(("field", "value"), [("flag", 2), ("rating", 6), ("rating", -1), ("color_label", "pink")])
def test_invalid_values_are_refused(catalog: Catalog, field: str, value: object) -> None:
    a = add_photo(catalog, "a.jpg")
    with pytest.raises(ValueError):
        decisions.set_decision(catalog, [a], field, value)  # type: ignore[arg-type]
