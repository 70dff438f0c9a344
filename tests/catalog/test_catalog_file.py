"""Opening, migrating and refusing catalog files: real SQLite files on disk."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import warnings
from pathlib import Path

import pytest
from sqlalchemy import text

from artimuse_desktop.catalog import Catalog, open_catalog
from artimuse_desktop.catalog.db import head_revision
from artimuse_desktop.errors import CatalogError, CatalogTooNewError
from tests.catalog.frozen import FROZEN, assert_frozen_data, frozen_copy


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_catalog_is_wal_with_foreign_keys_at_head(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "new" / "catalog.sqlite")
    with catalog.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert catalog.schema_revision == head_revision()
    assert catalog.integrity_check() == "ok"
    catalog.close()


def test_default_location_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = open_catalog()
    assert catalog.path.name == "catalog.sqlite"
    assert catalog.path.is_file()
    catalog.close()
    monkeypatch.setenv("ARTIMUSE_CATALOG", str(tmp_path / "elsewhere.sqlite"))
    with open_catalog() as other:
        assert other.path == tmp_path / "elsewhere.sqlite"


@pytest.mark.parametrize("frozen", sorted(p.name for p in FROZEN.glob("catalog-*.sqlite")))
def test_frozen_released_schemas_upgrade_and_keep_their_data(tmp_path: Path, frozen: str) -> None:
    with Catalog(frozen_copy(frozen, tmp_path)) as catalog:
        assert catalog.schema_revision == head_revision()
        assert catalog.integrity_check() == "ok"
        assert_frozen_data(catalog)


def test_catalog_from_a_newer_version_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    shutil.copy(FROZEN / "catalog-0001.sqlite", path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    connection.close()
    before = _digest(path)
    with pytest.raises(CatalogTooNewError, match="newer version") as info:
        Catalog(path)
    assert "9999_from_the_future" in info.value.message
    assert info.value.hint
    assert _digest(path) == before


def test_a_file_that_is_not_a_catalog_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list\n")
    with pytest.raises(CatalogError, match="not an ArtiMuse catalog"):
        Catalog(path)
    assert path.read_text() == "shopping list\n"


def test_a_corrupt_catalog_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.sqlite"
    data = (FROZEN / "catalog-0001.sqlite").read_bytes()
    path.write_bytes(data[:100] + b"\x00" * 4000)
    with pytest.raises(CatalogError, match=r"broken\.sqlite"):
        Catalog(path)


def test_migrations_match_the_models(tmp_path: Path) -> None:
    """The schema the migrations build is the schema the models describe (no forgotten migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from artimuse_desktop.catalog.models import MIGRATION_ONLY_INDEX_PREFIXES, Base

    # the FTS5 tables, and the indexes alembic cannot read back (partial, descending, expressions)
    unread = ("critique_fts", "photo_names", *MIGRATION_ONLY_INDEX_PREFIXES)
    with Catalog(tmp_path / "c.sqlite") as catalog, catalog.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            diff = [d for d in compare_metadata(context, Base.metadata) if not any(n in str(d) for n in unread)]
        assert diff == []
