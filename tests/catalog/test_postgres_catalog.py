"""What only a PostgreSQL catalog does: opening by URL, the tsvector search, the plpgsql score triggers, the
advisory lock around a first open, change notifications, and clear messages for a server that is not there.

The shared behaviour (queries, sorts, filters, the cached score) runs on both engines through the ``catalog``
fixture of ``conftest.py``; these tests take a fresh database from ``postgres_url`` (``tests/postgres.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from artimuse_desktop import cli, paths
from artimuse_desktop.catalog import queries
from artimuse_desktop.catalog.db import Catalog, open_catalog, open_catalog_for_reading
from artimuse_desktop.catalog.filters import PhotoFilter
from artimuse_desktop.catalog.location import hide_password, parse_location
from artimuse_desktop.catalog.revisions import head_revision
from artimuse_desktop.catalog.upgrade import UPGRADE_LOCK
from artimuse_desktop.catalog.watch import ExternalChanges
from artimuse_desktop.culling import decisions
from artimuse_desktop.errors import CatalogError, CatalogTooNewError
from tests.factory import PhotoSpec, add_assessment, add_photos, set_score_model
from tests.images import write_jpeg
from tests.postgres import PostgresServer
from tests.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


def _python(script: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


# --------------------------------------------------------------------------------------------- locations


def test_a_url_is_a_location_not_a_path(tmp_path: Path) -> None:
    place = parse_location("postgresql://editor:s3cret@nas.local:5433/studio")
    assert place.dialect == "postgresql" and place.path is None
    assert place.url == "postgresql+psycopg://editor:s3cret@nas.local:5433/studio"
    assert place.printable == "postgresql+psycopg://editor:***@nas.local:5433/studio"
    assert parse_location(str(tmp_path / "c.sqlite")).path == tmp_path / "c.sqlite"
    with pytest.raises(CatalogError, match="only PostgreSQL"):
        parse_location("mysql://editor:s3cret@nas/studio")
    with pytest.raises(CatalogError, match="names no database") as info:
        parse_location("postgresql+psycopg://editor:s3cret@nas.local")
    assert "s3cret" not in info.value.user_text()


def test_opening_by_url_by_env_and_by_option(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with Catalog(postgres_url) as catalog:
        assert (catalog.dialect, catalog.path, catalog.url) == ("postgresql", None, postgres_url)
        assert catalog.location == postgres_url  # no password to hide here
        assert catalog.schema_revision == head_revision()
        assert catalog.integrity_check() == "ok"
    monkeypatch.setenv("ARTIMUSE_CATALOG", postgres_url)
    assert paths.default_catalog_path() == postgres_url  # kept as text: Path would fold the //
    with open_catalog() as catalog:
        assert catalog.dialect == "postgresql"
    with open_catalog_for_reading(postgres_url) as catalog:
        assert catalog.read_only is False
    parser = cli.build_parser()
    from artimuse_desktop.commands.catalog_option import catalog_path

    assert catalog_path(parser.parse_args(["--catalog", postgres_url, "list"])) == postgres_url


def test_migrations_match_the_models_on_postgresql(postgres_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from artimuse_desktop.catalog.models import MIGRATION_ONLY_INDEX_PREFIXES, Base

    unread = ("critique_fts", *MIGRATION_ONLY_INDEX_PREFIXES)
    with Catalog(postgres_url) as catalog, catalog.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        diff = [d for d in compare_metadata(context, Base.metadata) if not any(n in str(d) for n in unread)]
        assert diff == []


def test_a_read_only_opening_refuses_writes(postgres_url: str) -> None:
    Catalog(postgres_url).close()
    with Catalog(postgres_url, read_only=True) as catalog:
        with catalog.read() as session:
            assert queries.count_photos(session) == 0
        with pytest.raises(CatalogError, match="reading only"), catalog.write():
            pass


# --------------------------------------------------------------------------------------------- errors


def test_an_unreachable_server_is_named_without_its_password(postgres_server: PostgresServer) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://editor:s3cret@127.0.0.1:{port}/studio"
    with pytest.raises(CatalogError) as info:
        Catalog(url)
    shown = info.value.user_text()
    assert f"postgresql+psycopg://editor:***@127.0.0.1:{port}/studio" in shown
    assert "s3cret" not in shown
    assert "refused" in shown.lower() and info.value.hint


def test_a_database_that_does_not_exist_is_named(postgres_server: PostgresServer) -> None:
    with pytest.raises(CatalogError, match=r"cannot open the catalog .*no_such_catalog.*does not exist"):
        Catalog(postgres_server.url("no_such_catalog"))


def test_a_catalog_from_a_newer_version_is_refused_and_left_untouched(postgres_url: str) -> None:
    with Catalog(postgres_url) as catalog, catalog.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(CatalogTooNewError, match="newer version") as info:
        Catalog(postgres_url)
    assert hide_password(postgres_url) in info.value.message


def test_a_database_holding_other_tables_is_not_taken_for_a_catalog(postgres_url: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        connection.execute("CREATE TABLE invoices (id integer PRIMARY KEY)")
    with pytest.raises(CatalogError, match=r"not an ArtiMuse catalog: it holds 1 tables \(invoices\)"):
        Catalog(postgres_url)
    with psycopg.connect(postgres_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        assert connection.execute("SELECT to_regclass('photos')").fetchone() == (None,)


# --------------------------------------------------------------------------------------------- search, triggers


def test_search_reads_the_tsvector_index_without_diacritics_and_by_prefix(postgres_url: str, tmp_path: Path) -> None:
    with Catalog(postgres_url) as catalog:
        first, second, third = add_photos(
            catalog, tmp_path, [PhotoSpec("a.jpg"), PhotoSpec("b.jpg"), PhotoSpec("c.jpg")]
        )
        add_assessment(
            catalog, first, "artimuse", 60.0, attributes={"Mood": (7.0, "Un café très réussi, lumière douce")}
        )
        add_assessment(catalog, second, "artimuse", 50.0, attributes={"Mood": (5.0, "Harsh midday LIGHT on the faces")})
        add_assessment(catalog, third, "artimuse", 40.0, attributes={"Mood": (4.0, None)})

        def found(search: str) -> list[int]:
            with catalog.read() as session:
                return sorted(queries.photo_ids(session, PhotoFilter(search=search)))

        assert found("cafe tres") == [first]  # accents dropped on both sides
        assert found("CAFÉ") == [first]
        assert found("lumi") == [first]  # a prefix
        assert found("light") == [second]  # case folded
        assert found("cafe harsh") == []  # every word must appear
        assert found("b.jpg") == [second]  # file names still match by substring
        with catalog.engine.connect() as connection:
            connection.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(
                row[0]
                for row in connection.execute(
                    text(
                        "EXPLAIN SELECT id FROM attribute_scores WHERE to_tsvector('artimuse_critique'::regconfig, "
                        "critique) @@ to_tsquery('artimuse_critique'::regconfig, 'cafe:*')"
                    )
                )
            )
        assert "ix_critique_fts" in plan


def test_the_score_triggers_keep_photos_score(postgres_url: str, tmp_path: Path) -> None:
    with Catalog(postgres_url) as catalog:
        (photo,) = add_photos(catalog, tmp_path, [PhotoSpec("a.jpg")])

        def cached() -> float | None:
            with catalog.read() as session:
                return session.execute(text("SELECT score FROM photos WHERE id = :id"), {"id": photo}).scalar()

        assert cached() is None
        add_assessment(catalog, photo, "technical", 61.0)
        assert cached() == 61.0
        add_assessment(catalog, photo, "artimuse", 80.0)
        assert cached() == 61.0  # not the chosen model
        set_score_model(catalog, "artimuse")
        assert cached() == 80.0
        with catalog.write() as session:
            session.execute(text("UPDATE assessments SET score = 82.5 WHERE model = 'artimuse'"))
        assert cached() == 82.5
        with catalog.write() as session:
            session.execute(text("DELETE FROM catalog_settings WHERE key = 'score_model'"))
        assert cached() == 61.0  # back to technical
        with catalog.write() as session:
            session.execute(text("DELETE FROM assessments WHERE model = 'technical'"))
        assert cached() is None


# --------------------------------------------------------------------------------------------- several processes

_OPEN = (
    "import sys; from artimuse_desktop.catalog.db import Catalog; c = Catalog(sys.argv[1]); "
    "print(c.schema_revision); c.close()"
)


def test_two_processes_creating_the_catalog_at_once_queue_on_the_advisory_lock(
    postgres_url: str, postgres_server: PostgresServer
) -> None:
    import psycopg

    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (UPGRADE_LOCK,))
        both = [_python(_OPEN, postgres_url), _python(_OPEN, postgres_url)]

        def waiting() -> int:
            row = holder.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            ).fetchone()
            return int(row[0]) if row else 0

        wait_until(lambda: waiting() == 2, timeout=60, what="both processes waiting on the upgrade lock")
        holder.execute("SELECT pg_advisory_unlock(%s)", (UPGRADE_LOCK,))
        results = [process.communicate(timeout=120) for process in both]
    assert [process.returncode for process in both] == [0, 0], results
    assert [out.strip() for out, _ in results] == [head_revision()] * 2
    with Catalog(postgres_url) as catalog, catalog.read() as session:
        assert session.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


_RATE = (
    "import sys; from artimuse_desktop.catalog.db import Catalog; from artimuse_desktop.culling import decisions; "
    "c = Catalog(sys.argv[1]); decisions.set_decision(c, [int(sys.argv[2])], 'rating', 4); c.close()"
)


def test_changes_by_another_process_are_noticed_our_own_are_not(postgres_url: str, tmp_path: Path) -> None:
    with Catalog(postgres_url) as catalog:
        ids = add_photos(catalog, tmp_path / "photos", [PhotoSpec("a.jpg"), PhotoSpec("b.jpg")])
        watch = ExternalChanges(catalog)
        try:
            assert watch.poll() is False
            decisions.set_decision(catalog, ids, "flag", 1)  # our own write
            assert watch.poll() is False
            process = _python(_RATE, postgres_url, str(ids[0]))
            assert process.communicate(timeout=120) and process.returncode == 0
            wait_until(watch.poll, timeout=20, what="the other process's commit to be noticed")
            assert watch.poll() is False  # reported once
        finally:
            watch.close()


# --------------------------------------------------------------------------------------------- the command line


def test_index_and_list_on_postgresql_from_the_command_line(
    postgres_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "wedding"
    for index in range(3):
        write_jpeg(library / "ceremony" / f"IMG_{index:04d}.jpg", width=320, height=240, seed=index)
    assert cli.main(["--catalog", postgres_url, "index", "--quiet", "--no-previews", str(library)]) == 0
    capsys.readouterr()
    assert cli.main(["--catalog", postgres_url, "list", "--format", "json", "--folder", str(library)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(row["filename"] for row in rows) == ["IMG_0000.jpg", "IMG_0001.jpg", "IMG_0002.jpg"]
    assert {row["width"] for row in rows} == {320}
