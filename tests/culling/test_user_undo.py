"""Each editor undoes only their own decisions, and never somebody else's later change (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.catalog.models import DecisionEvent, UndoPosition
from artimuse_desktop.catalog.revisions import head_revision
from artimuse_desktop.culling import decisions
from tests.factory import add_photo


@pytest.fixture(params=["sqlite", "postgresql"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    place = str(tmp_path / "c.sqlite") if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    catalog = Catalog(place)
    try:
        yield catalog
    finally:
        catalog.close()


def state(catalog: Catalog, *ids: int) -> list[tuple[int, int, str | None]]:
    with catalog.read() as session:
        return [(r.flag, r.rating, r.color_label) for r in queries.records_by_ids(session, list(ids))]


def test_each_editor_undoes_and_redoes_only_their_own_decisions(shared: Catalog) -> None:
    a, b = add_photo(shared, "/nas/a.jpg"), add_photo(shared, "/nas/b.jpg")
    decisions.set_decision(shared, [a, b], "flag", 1, user="alice")
    decisions.set_decision(shared, [a], "rating", 5, user="bob")
    decisions.set_decision(shared, [b], "color_label", "red", user="alice")
    assert state(shared, a, b) == [(1, 5, None), (1, 0, "red")]

    undone = decisions.undo(shared, user="bob")
    assert undone is not None and undone.field == "rating" and undone.photo_ids == (a,)
    assert state(shared, a, b) == [(1, 0, None), (1, 0, "red")]  # alice's later label stays
    assert decisions.undo(shared, user="bob") is None  # bob has nothing else
    first = decisions.undo(shared, user="alice")
    second = decisions.undo(shared, user="alice")
    assert first is not None and first.field == "color_label"
    assert second is not None and second.field == "flag" and set(second.photo_ids) == {a, b}
    assert state(shared, a, b) == [(0, 0, None), (0, 0, None)]
    assert decisions.undo(shared, user="alice") is None

    redone = decisions.redo(shared, user="bob")
    assert redone is not None and redone.field == "rating"
    assert state(shared, a, b) == [(0, 5, None), (0, 0, None)]
    assert decisions.redo(shared, user="alice") is not None  # alice's flags, bob's rating untouched
    assert state(shared, a, b) == [(1, 5, None), (1, 0, None)]


def test_undo_leaves_a_photo_somebody_else_changed_since_and_says_so(shared: Catalog) -> None:
    a, b = add_photo(shared, "/nas/a.jpg"), add_photo(shared, "/nas/b.jpg")
    decisions.set_decision(shared, [a, b], "flag", 1, user="alice")
    decisions.set_decision(shared, [b], "flag", -1, user="bob")  # bob rejects one of alice's picks

    change = decisions.undo(shared, user="alice")
    assert change is not None and change.photo_ids == (a,) and change.skipped == (b,)
    assert state(shared, a, b) == [(0, 0, None), (-1, 0, None)]  # bob's reject stays
    # Redo leaves it too: its value is bob's, not the one alice's batch found.
    again = decisions.redo(shared, user="alice")
    assert again is not None and again.photo_ids == (a,) and again.skipped == (b,)
    assert state(shared, a, b) == [(1, 0, None), (-1, 0, None)]


def test_a_change_undone_by_its_editor_no_longer_blocks_the_undo_of_an_earlier_one(shared: Catalog) -> None:
    a = add_photo(shared, "/nas/a.jpg")
    decisions.set_decision(shared, [a], "rating", 3, user="alice")
    decisions.set_decision(shared, [a], "rating", 5, user="bob")
    assert decisions.undo(shared, user="bob") is not None  # back to alice's 3
    change = decisions.undo(shared, user="alice")
    assert change is not None and change.photo_ids == (a,) and change.skipped == ()
    assert state(shared, a) == [(0, 0, None)]


def test_a_new_decision_drops_only_that_editors_redo_history(shared: Catalog) -> None:
    a, b = add_photo(shared, "/nas/a.jpg"), add_photo(shared, "/nas/b.jpg")
    decisions.set_decision(shared, [a], "rating", 2, user="alice")
    decisions.set_decision(shared, [b], "rating", 4, user="bob")
    decisions.undo(shared, user="alice")
    decisions.undo(shared, user="bob")
    decisions.set_decision(shared, [a], "flag", 1, user="alice")  # alice's redo of the rating is gone
    assert decisions.redo(shared, user="alice") is None
    redone = decisions.redo(shared, user="bob")  # bob's is still there
    assert redone is not None and redone.photo_ids == (b,)
    assert state(shared, a, b) == [(1, 0, None), (0, 4, None)]
    with shared.read() as session:
        users = set(session.execute(select(DecisionEvent.user_name)).scalars())
        positions = dict(session.execute(select(UndoPosition.user_name, UndoPosition.batch)).all())
    assert users == {"alice", "bob"} and set(positions) == {"alice", "bob"}


def test_decided_here_counts_every_editors_applied_decisions(shared: Catalog) -> None:
    a, b = add_photo(shared, "/nas/a.jpg"), add_photo(shared, "/nas/b.jpg")
    decisions.set_decision(shared, [a], "rating", 4, user="alice")
    decisions.set_decision(shared, [b], "flag", 1, user="bob")
    decisions.set_decision(shared, [a], "flag", -1, user="bob")
    decisions.undo(shared, user="bob")  # bob's reject of a is undone: not decided here any more
    with shared.read() as session:
        found = decisions.fields_decided_here(session, [a, b])
    assert found == {a: frozenset({"rating"}), b: frozenset({"flag"})}


def test_the_user_defaults_to_artimuse_user(shared: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    a = add_photo(shared, "/nas/a.jpg")
    monkeypatch.setenv("ARTIMUSE_USER", "carol")
    decisions.set_decision(shared, [a], "flag", 1)
    assert decisions.undo(shared, user="dave") is None
    monkeypatch.setenv("ARTIMUSE_USER", "dave")
    assert decisions.undo(shared) is None
    monkeypatch.setenv("ARTIMUSE_USER", "carol")
    assert decisions.undo(shared) is not None
    with shared.read() as session:
        assert set(session.execute(select(DecisionEvent.user_name)).scalars()) == {"carol"}


def _to_0003_with_a_legacy_log(catalog: Catalog, a: int, b: int) -> None:
    """Downgrade to 0003 (through 0004's own downgrade) and write the log as that schema kept it."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from artimuse_desktop.catalog.revisions import MIGRATIONS_DIR

    with catalog.engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
        connection.execute(
            text(
                "INSERT INTO decision_events (photo_id, field, old_value, new_value, batch, at) VALUES "
                "(:a, 'flag', '0', '1', 7, :at), (:b, 'flag', '0', '1', 7, :at), (:b, 'rating', '0', '2', 8, :at)"
            ),
            {"a": a, "b": b, "at": "2026-11-02 10:00:00"},
        )
        connection.execute(text("UPDATE photos SET flag = 1 WHERE id IN (:a, :b)"), {"a": a, "b": b})
        connection.execute(text("UPDATE photos SET rating = 2 WHERE id = :b"), {"b": b})
        connection.execute(text("DELETE FROM catalog_settings WHERE key = 'undo_position'"))
        connection.execute(text("INSERT INTO catalog_settings (key, value) VALUES ('undo_position', '8')"))


def test_0004_upgrades_a_legacy_log_on_either_database_and_numbers_go_on(shared: Catalog) -> None:
    a, b = add_photo(shared, "/nas/a.jpg"), add_photo(shared, "/nas/b.jpg")
    _to_0003_with_a_legacy_log(shared, a, b)
    place = shared.url or str(shared.path)
    shared.close()
    with Catalog(place) as catalog:
        assert catalog.schema_revision == head_revision()
        undone = decisions.undo(catalog, user="erin")  # the legacy pointer is everyone's starting point
        assert undone is not None and (undone.batch, undone.photo_ids) == (8, (b,))
        change = decisions.set_decision(catalog, [a], "color_label", "red", user="erin")
        assert change is not None and change.batch == 9  # after every legacy number, the sequence too
        assert decisions.undo(catalog, user="erin") is not None
        flags = decisions.undo(catalog, user="erin")
        assert flags is not None and flags.batch == 7 and set(flags.photo_ids) == {a, b}
        assert state(catalog, a, b) == [(0, 0, None), (0, 0, None)]
