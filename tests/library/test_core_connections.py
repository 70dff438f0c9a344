"""The indexer's Core connections (``Catalog.connect_read`` / ``connect_write``) keep ``read()``/``write()``'s
promises: commit on success, nothing on error, a read-only catalog refused with the reason, a failed write named,
and (where this process has sessions, as the window has) our own commits are not mistaken for another process's."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.tables import catalog_settings
from artimuse_desktop.errors import CatalogError
from artimuse_desktop.imaging.thumbnails import ThumbnailCache
from artimuse_desktop.library.indexer import index_roots
from tests.images import write_jpeg


def _settings(catalog: Catalog) -> int:
    with catalog.connect_read() as connection:
        return int(connection.execute(select(func.count()).select_from(catalog_settings)).scalar_one())


def test_a_core_write_commits_on_success_and_leaves_nothing_on_error(catalog: Catalog) -> None:
    before = _settings(catalog)
    with catalog.connect_write() as connection:
        connection.execute(insert(catalog_settings).values(key="test:kept", value="1"))
    assert _settings(catalog) == before + 1
    with pytest.raises(RuntimeError), catalog.connect_write() as connection:
        connection.execute(insert(catalog_settings).values(key="test:dropped", value="1"))
        raise RuntimeError("stop")
    assert _settings(catalog) == before + 1


def test_a_failed_core_write_is_a_catalog_error_naming_the_catalog(catalog: Catalog) -> None:
    failing = pytest.raises(CatalogError, match="could not write to the catalog")
    with failing as raised, catalog.connect_write() as connection:
        connection.execute(text("UPDATE no_such_table SET x = 1"))
    assert str(catalog.location) in str(raised.value)


def test_a_read_only_catalog_refuses_core_writes_as_it_refuses_sessions(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    Catalog(path).close()
    with Catalog(path, read_only=True) as catalog:
        with pytest.raises(CatalogError) as by_session, catalog.write():
            pass
        with pytest.raises(CatalogError) as by_connection, catalog.connect_write():
            pass
        assert str(by_connection.value) == str(by_session.value)
        assert "cannot write to the catalog" in str(by_connection.value)
        assert _settings(catalog) == 0  # reading still works


def test_an_index_run_in_a_watched_process_is_not_news(catalog: Catalog, library: Path, cache: ThumbnailCache) -> None:
    from artimuse_desktop.catalog.watch import ExternalChanges

    write_jpeg(library / "a.jpg", 320, 240, seed=1)
    watch = ExternalChanges(catalog)  # the window's watcher: this process's commits are its own
    try:
        assert watch.poll() is False
        summary = index_roots(catalog, [library], cache=cache)
        assert summary.new == 1
        assert watch.poll() is False
    finally:
        watch.close()
