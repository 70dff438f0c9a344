"""Upgrades and creation are atomic: a real kill -9 or a full disk at any step leaves the catalog as it was.

The subprocess runs the real command line and parks right after a chosen SQL statement of the migration
(``gated_run.py``), so the kill lands at exactly that step every time. A full disk is SQLite's
``PRAGMA max_page_count`` on every connection the catalog opens, or a small tmpfs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event
from sqlalchemy.engine import Engine

from artimuse_desktop import cli
from artimuse_desktop.catalog import Catalog
from artimuse_desktop.catalog.db import head_revision
from artimuse_desktop.catalog.models import MIGRATION_ONLY_INDEX_PREFIXES, Base
from artimuse_desktop.catalog.root_locations import list_roots
from artimuse_desktop.culling import decisions
from artimuse_desktop.errors import CatalogError
from tests.catalog.frozen import (
    FROZEN,
    LEGACY_EVENTS,
    add_legacy_history,
    assert_frozen_data,
    decision_sources,
    frozen_copy,
    raw_state,
    undo_log,
)
from tests.catalog.places import small_tmpfs
from tests.waiting import kill_when_parked

GATED_RUN = Path(__file__).with_name("gated_run.py")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _backups(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.backup-*"))


def _kill_when_parked(tmp_path: Path, statement_start: str, argv: list[str]) -> str:
    """Run the CLI in a subprocess, SIGKILL it once it has executed ``statement_start``; return that SQL."""
    marker, gate = tmp_path / "parked.sql", tmp_path / "gate.fifo"
    os.mkfifo(gate)
    command = [sys.executable, str(GATED_RUN), str(marker), str(gate), statement_start, "--", *argv]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kill_when_parked(process, marker, f"{statement_start!r}", timeout=120)
    return marker.read_text()


def _user_tables(path: Path) -> list[str]:
    if not path.exists():
        return []
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    finally:
        connection.close()
    return [name for (name,) in rows if not name.startswith("sqlite_")]


@pytest.mark.parametrize(
    "step",
    [
        "ALTER TABLE photos ADD COLUMN score",  # the first step of 0001 -> 0002
        "CREATE INDEX ix_measures_cover",  # half-way
        "UPDATE alembic_version",  # the last step, before the commit
    ],
)
def test_kill_9_during_the_upgrade_leaves_0001_intact_and_the_next_open_upgrades(tmp_path: Path, step: str) -> None:
    path = frozen_copy("catalog-0001.sqlite", tmp_path / "place")
    parked = _kill_when_parked(tmp_path, step, ["--catalog", str(path), "list"])
    assert parked.lstrip().startswith(step)
    revision, columns, integrity = raw_state(path)
    assert (revision, "score" in columns, integrity) == ("0001", False, "ok")
    (backup,) = _backups(path.parent)  # made before the first step, complete
    assert backup.name.startswith("catalog-0001.sqlite.backup-0001-")
    assert raw_state(backup) == ("0001", columns, "ok")
    with Catalog(path) as catalog:
        assert catalog.schema_revision == head_revision()
        assert catalog.integrity_check() == "ok"
        assert_frozen_data(catalog)


def test_kill_9_while_creating_a_catalog_leaves_no_half_made_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "catalog.sqlite"
    empty = tmp_path / "empty"
    empty.mkdir()
    _kill_when_parked(tmp_path, "CREATE TABLE photos", ["--catalog", str(path), "index", str(empty)])
    assert _user_tables(path) == []  # nothing committed: no tables without a version row
    with Catalog(path) as catalog:
        assert catalog.schema_revision == head_revision()
        assert catalog.integrity_check() == "ok"


@contextmanager
def page_limit(extra_pages: int) -> Iterator[None]:
    """Every SQLAlchemy connection opened meanwhile may grow its file by ``extra_pages`` pages only."""

    def limit(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + extra_pages}")

    event.listen(Engine, "connect", limit)
    try:
        yield
    finally:
        event.remove(Engine, "connect", limit)


@pytest.mark.parametrize("extra_pages", [0, 1, 3, 5])
def test_a_full_disk_during_the_upgrade_leaves_0001_intact(tmp_path: Path, extra_pages: int) -> None:
    path = frozen_copy("catalog-0001.sqlite", tmp_path)
    with page_limit(extra_pages), pytest.raises(CatalogError) as info:
        Catalog(path)
    message = info.value.message
    assert str(path) in message and "database or disk is full" in message
    assert "still at schema 0001" in message and str(_backups(tmp_path)[0]) in message
    assert info.value.hint and "free some space" in info.value.hint
    revision, columns, integrity = raw_state(path)
    assert (revision, "score" in columns, integrity) == ("0001", False, "ok")
    with Catalog(path) as catalog:  # room again: it upgrades
        assert catalog.schema_revision == head_revision()
        assert_frozen_data(catalog)


@pytest.mark.parametrize("extra_pages", [1, 2, 8, 30])
def test_a_full_disk_while_creating_leaves_no_catalog_or_a_complete_one(tmp_path: Path, extra_pages: int) -> None:
    path = tmp_path / "catalog.sqlite"
    with page_limit(extra_pages), pytest.raises(CatalogError, match="could not create the catalog") as info:
        Catalog(path)
    assert str(path) in info.value.message and "full" in info.value.message
    assert _user_tables(path) == []
    with Catalog(path) as catalog:
        assert catalog.schema_revision == head_revision()
        assert catalog.integrity_check() == "ok"


def test_a_half_made_catalog_from_an_older_version_is_named_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the first version left after a full disk while creating: tables, an empty alembic_version."""
    path = tmp_path / "catalog.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")  # as the first version set it on connect
    connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    connection.execute("CREATE TABLE catalog_settings (key VARCHAR(64) PRIMARY KEY, value TEXT)")
    connection.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    connection.commit()
    connection.close()
    before = _digest(path)
    with pytest.raises(CatalogError, match="half-made") as info:
        Catalog(path)
    assert str(path) in info.value.message and "0 photos" in info.value.message
    assert info.value.hint and "move it away" in info.value.hint
    assert cli.main(["--catalog", str(path), "index", str(tmp_path)]) == 2
    assert "half-made" in capsys.readouterr().err
    assert _digest(path) == before


def test_the_copy_kept_before_an_upgrade_is_announced_once(tmp_path: Path) -> None:
    path = frozen_copy("catalog-0001.sqlite", tmp_path)
    command = [sys.executable, "-m", "artimuse_desktop", "--catalog", str(path), "list"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    (backup,) = _backups(tmp_path)
    assert result.stderr.count("kept at") == 1 and str(backup) in result.stderr
    assert raw_state(backup)[0] == "0001" and raw_state(backup)[2] == "ok"
    restored = tmp_path / "restored" / "catalog.sqlite"
    restored.parent.mkdir()
    restored.write_bytes(backup.read_bytes())
    with Catalog(restored) as catalog:  # the copy is a whole catalog of its own
        assert_frozen_data(catalog)
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "kept at" not in again.stderr  # already upgraded: no new copy
    assert _backups(tmp_path) == [backup]


def test_an_upgrade_of_a_catalog_without_photos_keeps_no_copy(tmp_path: Path) -> None:
    path = frozen_copy("catalog-0001.sqlite", tmp_path)
    connection = sqlite3.connect(path)
    for table in ("measures", "attribute_scores", "assessments", "photos"):
        connection.execute(f"DELETE FROM {table}")
    connection.commit()
    connection.close()
    with Catalog(path) as catalog:
        assert catalog.schema_revision == head_revision()
        assert catalog.backup_path is None and catalog.notices == []
    assert _backups(tmp_path) == []


def test_no_room_for_the_copy_refuses_the_upgrade_and_leaves_the_catalog_untouched(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "400k") as disk:
        path = frozen_copy("catalog-0001.sqlite", disk)
        before = _digest(path)
        with pytest.raises(CatalogError, match="no room") as info:
            Catalog(path)
        assert str(path) in info.value.message and "untouched" in info.value.message
        assert info.value.hint and "free some space" in info.value.hint
        assert _digest(path) == before
        assert raw_state(path)[:2] == ("0001", raw_state(FROZEN / "catalog-0001.sqlite")[1])
        assert [p.name for p in disk.iterdir() if ".backup-" in p.name] == []


@pytest.mark.parametrize("done", [1, 4, 13])
def test_a_catalog_left_half_upgraded_by_the_first_version_opens_again(tmp_path: Path, done: int) -> None:
    """The first version committed each step of 0002 on its own; ``done`` of its steps ran before the kill."""
    steps = [
        "ALTER TABLE photos ADD COLUMN score FLOAT",
        "DROP INDEX ix_photos_status",
        "DROP INDEX ix_photos_rating",
        "DROP INDEX ix_photos_flag",
        "CREATE INDEX ix_photos_status_captured ON photos (status, captured_at)",
        "CREATE INDEX ix_photos_rating_status_captured ON photos (rating, status, captured_at)",
        "CREATE INDEX ix_photos_flag_status_captured ON photos (flag, status, captured_at)",
        "CREATE INDEX ix_photos_status_score ON photos (status, score)",
        "CREATE INDEX ix_photos_rating_status_score ON photos (rating, status, score)",
        "CREATE INDEX ix_photos_flag_status_score ON photos (flag, status, score)",
        "DROP INDEX ix_assessments_photo_model_current",
        "CREATE INDEX ix_assessments_photo_model_current_score ON assessments (photo_id, model, current, score)",
        "CREATE TRIGGER assessments_score_ad AFTER DELETE ON assessments BEGIN "
        "UPDATE photos SET score = NULL WHERE id = old.photo_id; END",
    ]
    path = frozen_copy("catalog-0001.sqlite", tmp_path)
    connection = sqlite3.connect(path)
    for statement in steps[:done]:
        connection.execute(statement)
    connection.commit()
    connection.close()
    assert raw_state(path)[0] == "0001" and "score" in raw_state(path)[1]
    with Catalog(path) as catalog:
        assert catalog.schema_revision == head_revision()
        assert catalog.integrity_check() == "ok"
        assert_frozen_data(catalog)
        with catalog.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            unread = ("critique_fts", "photo_names", *MIGRATION_ONLY_INDEX_PREFIXES)  # as in test_catalog_file
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
                diff = [d for d in compare_metadata(context, Base.metadata) if not any(n in str(d) for n in unread)]
            assert diff == []
            trigger = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'assessments_score_ad'"
            ).scalar()
            assert "SELECT a.score" in str(trigger)  # 0002's own trigger, not the half-made one
    (backup,) = _backups(tmp_path)
    assert raw_state(backup)[0] == "0001"  # the copy is of the catalog as it was found


def test_a_partial_copy_left_by_a_killed_upgrade_is_removed_by_the_next(tmp_path: Path) -> None:
    path = frozen_copy("catalog-0001.sqlite", tmp_path)
    leftover = tmp_path / "catalog-0001.sqlite.backup-0001-20260101-000000.partial"
    leftover.write_bytes(b"SQLite format 3\x00 cut short")
    Path(f"{leftover}-journal").write_bytes(b"\x00" * 512)
    with Catalog(path) as catalog:
        assert catalog.backup_path is not None and catalog.backup_path.exists()
    assert sorted(p.name for p in tmp_path.glob("*.partial*")) == []


def test_0003_fills_in_where_the_decisions_of_an_older_catalog_came_from(tmp_path: Path) -> None:
    """A decision with an undo-log entry was made here; any other reached the catalog from a sidecar."""
    path = frozen_copy("catalog-0002.sqlite", tmp_path)
    connection = sqlite3.connect(path)
    connection.execute(
        "INSERT INTO decision_events (photo_id, field, old_value, new_value, batch, at) "
        "VALUES (1, 'rating', '0', '5', 1, '2026-11-02 10:00:00'), (3, 'flag', '1', '0', 2, '2026-11-02 10:01:00')"
    )
    connection.commit()
    connection.close()
    with Catalog(path) as catalog:
        assert catalog.schema_revision == head_revision()
        assert_frozen_data(catalog)
        # photo 1 (pick, 5, red), photo 2 (reject), photo 3 (unflagged here, 3, green)
        assert decision_sources(catalog) == [
            ("sidecar", "app", "sidecar"),
            ("sidecar", None, None),
            ("app", "sidecar", "sidecar"),
        ]


def test_the_frozen_0003_catalog_keeps_the_source_of_each_decision(tmp_path: Path) -> None:
    with Catalog(frozen_copy("catalog-0003.sqlite", tmp_path)) as catalog:
        assert catalog.schema_revision == head_revision()
        assert_frozen_data(catalog)
        assert decision_sources(catalog) == [("app", "app", "sidecar"), ("app", None, None), (None, "file", "file")]


@pytest.mark.parametrize(
    "step",
    [
        "ALTER TABLE photos ADD COLUMN flag_source",  # the first step of 0002 -> 0003
        "UPDATE photos SET flag_source",  # the fill-in from the undo log
        "UPDATE alembic_version",  # before the commit
    ],
)
def test_kill_9_during_the_0003_upgrade_leaves_0002_intact_and_the_next_open_upgrades(
    tmp_path: Path, step: str
) -> None:
    path = frozen_copy("catalog-0002.sqlite", tmp_path / "place")
    parked = _kill_when_parked(tmp_path, step, ["--catalog", str(path), "list"])
    assert parked.lstrip().startswith(step)
    revision, columns, integrity = raw_state(path)
    assert (revision, "flag_source" in columns, integrity) == ("0002", False, "ok")
    (backup,) = _backups(path.parent)
    assert backup.name.startswith("catalog-0002.sqlite.backup-0002-") and raw_state(backup)[0] == "0002"
    with Catalog(path) as catalog:
        assert catalog.schema_revision == head_revision()
        assert catalog.integrity_check() == "ok"
        assert_frozen_data(catalog)
        assert decision_sources(catalog) == [("sidecar",) * 3, ("sidecar", None, None), (None, "sidecar", "sidecar")]


def _flags_and_ratings(catalog: Catalog) -> list[tuple[int, int, str | None]]:
    from artimuse_desktop.catalog import queries
    from artimuse_desktop.catalog.filters import SortSpec

    with catalog.read() as session:
        return [(r.flag, r.rating, r.color_label) for r in queries.query_photos(session, sort=SortSpec("filename"))]


@pytest.mark.parametrize("name", ["catalog-0001.sqlite", "catalog-0002.sqlite", "catalog-0003.sqlite"])
def test_an_upgrade_keeps_the_undo_history_and_every_user_may_replay_it(tmp_path: Path, name: str) -> None:
    """Before 0004 the log had no users and one pointer: it becomes everyone's history, the pointer theirs."""
    path = frozen_copy(name, tmp_path)
    add_legacy_history(path)
    with Catalog(path) as catalog:
        assert catalog.schema_revision == head_revision()
        assert_frozen_data(catalog)
        assert undo_log(catalog) == [(*event, None) for event in LEGACY_EVENTS]
        undone = decisions.undo(catalog, user="alice")  # the old pointer's batch: photo 2's reject
        assert undone is not None and (undone.batch, undone.field) == (3, "flag")
        assert _flags_and_ratings(catalog)[1] == (0, 0, None)
        assert decisions.redo(catalog, user="alice") is not None
        redone = decisions.redo(catalog, user="alice")  # the batch that was waiting for a redo before
        assert redone is not None and redone.batch == 4
        assert _flags_and_ratings(catalog) == [(1, 5, "red"), (-1, 0, None), (0, 1, "green")]
        newer = decisions.set_decision(catalog, [1], "color_label", "blue", user="alice")
        assert newer is not None and newer.batch == 5  # numbers go on after the old ones
        # bob starts from the old pointer too: his undo is the batch before it.
        bobs = decisions.undo(catalog, user="bob")
        assert bobs is not None and bobs.batch == 3 and bobs.photo_ids == (2,)
        assert _flags_and_ratings(catalog) == [(1, 5, "blue"), (0, 0, None), (0, 1, "green")]


def test_the_frozen_0004_catalog_keeps_each_users_undo_history_and_root_locations(tmp_path: Path) -> None:
    with Catalog(frozen_copy("catalog-0004.sqlite", tmp_path)) as catalog:
        assert catalog.schema_revision == head_revision()
        assert_frozen_data(catalog)
        assert decision_sources(catalog) == [("app", "app", "sidecar"), ("app", None, None), (None, "file", "file")]
        assert [event[5] for event in undo_log(catalog)] == ["alice", "alice", "bob"]
        assert decisions.undo(catalog, user="carol") is None  # nobody else's to undo
        bobs = decisions.undo(catalog, user="bob")
        assert bobs is not None and bobs.photo_ids == (2,)
        for _ in range(2):
            assert decisions.undo(catalog, user="alice") is not None
        assert decisions.undo(catalog, user="alice") is None
        assert _flags_and_ratings(catalog)[:2] == [(0, 0, "red"), (0, 0, None)]
        change = decisions.set_decision(catalog, [3], "flag", 1, user="alice")
        assert change is not None and change.batch == 4
        (root,) = list_roots(catalog, machine="studio-mac")
        assert (root.path, root.local_path) == ("/photos", "/Volumes/photos")


@pytest.mark.parametrize(
    "step",
    [
        "ALTER TABLE decision_events ADD COLUMN user_name",  # the first step of 0003 -> 0004
        "INSERT INTO decision_batches",  # the batch numbers copied from the log
        "UPDATE alembic_version",  # before the commit
    ],
)
def test_kill_9_during_the_0004_upgrade_leaves_0003_intact_and_the_next_open_upgrades(
    tmp_path: Path, step: str
) -> None:
    path = frozen_copy("catalog-0003.sqlite", tmp_path / "place")
    add_legacy_history(path)
    parked = _kill_when_parked(tmp_path, step, ["--catalog", str(path), "list"])
    assert parked.lstrip().startswith(step)
    revision, _columns, integrity = raw_state(path)
    connection = sqlite3.connect(path)
    try:
        event_columns = [row[1] for row in connection.execute("PRAGMA table_info(decision_events)")]
        setting = connection.execute("SELECT value FROM catalog_settings WHERE key = 'undo_position'").fetchone()
    finally:
        connection.close()
    assert (revision, "user_name" in event_columns, integrity, setting) == ("0003", False, "ok", ("3",))
    with Catalog(path) as catalog:
        assert catalog.schema_revision == head_revision()
        assert catalog.integrity_check() == "ok"
        assert_frozen_data(catalog)
        assert undo_log(catalog) == [(*event, None) for event in LEGACY_EVENTS]
        change = decisions.undo(catalog, user="alice")
        assert change is not None and change.batch == 3


def test_the_upgrade_of_a_large_catalog_is_announced_before_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Rebuilding the sort indexes of a 300,000-photo catalog takes minutes: the user hears why it waits."""
    from artimuse_desktop.catalog import upgrade

    path = frozen_copy("catalog-0001.sqlite", tmp_path)
    monkeypatch.setattr(upgrade, "LARGE_CATALOG", 1)  # the frozen catalog's few photos count as "large"
    with caplog.at_level(logging.WARNING, logger="artimuse_desktop.catalog.upgrade"), Catalog(path):
        pass
    (announced,) = [r.getMessage() for r in caplog.records if "a catalog this size takes" in r.getMessage()]
    assert str(path) in announced and "from schema 0001 to" in announced
