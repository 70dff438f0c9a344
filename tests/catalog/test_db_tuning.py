"""Connection settings per kind of process (``catalog.db.Tuning``): the command line keeps its big page cache and
file mapping; the window's connections are light (issue 14: 500 MB resident at 300,000 photos)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from artimuse_desktop.catalog.db import BATCH, WINDOW, Catalog, open_catalog, open_catalog_for_reading

pytestmark = pytest.mark.sqlite_only


def _pragmas(catalog: Catalog) -> tuple[int, int, int]:
    with catalog.engine.connect() as connection:
        cache = connection.execute(text("PRAGMA cache_size")).scalar()
        mapped = connection.execute(text("PRAGMA mmap_size")).scalar()
        keys = connection.execute(text("PRAGMA foreign_keys")).scalar()
    return int(cache or 0), int(mapped or 0), int(keys or 0)


def test_the_command_line_keeps_its_big_cache_and_mapping(tmp_path: Path) -> None:
    with open_catalog(tmp_path / "c.sqlite") as catalog:
        assert catalog.tuning == BATCH
        assert _pragmas(catalog) == (-65536, 256 * 1024 * 1024, 1)


def test_the_window_opens_light_connections(tmp_path: Path) -> None:
    with open_catalog(tmp_path / "c.sqlite", tuning=WINDOW) as catalog:
        assert catalog.tuning == WINDOW
        assert _pragmas(catalog) == (-WINDOW.cache_kib, 0, 1)
        assert WINDOW.cache_kib < BATCH.cache_kib and WINDOW.pool_size < BATCH.pool_size


def test_a_read_only_catalog_takes_the_tuning_too(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    open_catalog(path).close()
    with Catalog(path, read_only=True, tuning=WINDOW) as catalog, catalog.engine.connect() as connection:
        assert connection.execute(text("PRAGMA query_only")).scalar() == 1
        assert connection.execute(text("PRAGMA mmap_size")).scalar() == 0
        assert connection.execute(text("PRAGMA cache_size")).scalar() == -WINDOW.cache_kib
    with open_catalog_for_reading(path) as default:  # the command line's reader: as before
        assert _pragmas(default)[:2] == (-65536, 256 * 1024 * 1024)


def test_the_window_keeps_only_its_pool_size_of_connections_after_a_burst_of_threads(tmp_path: Path) -> None:
    """Four threads read at once; afterwards only ``pool_size`` connections (and their caches) stay open."""
    with open_catalog(tmp_path / "c.sqlite", tuning=WINDOW) as catalog:
        inside = threading.Barrier(4)
        errors: list[BaseException] = []

        def read() -> None:
            try:
                with catalog.engine.connect() as connection:
                    connection.execute(text("SELECT count(*) FROM photos")).scalar()
                    inside.wait(timeout=30)  # all four hold a connection at the same time
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors
        pool: Any = catalog.engine.pool
        assert pool.checkedout() == 0
        assert pool.checkedin() == WINDOW.pool_size


def test_the_last_connection_used_is_handed_out_next(tmp_path: Path) -> None:
    """Most recently used first: the next question finds the pages the last one read in its cache."""
    with open_catalog(tmp_path / "c.sqlite", tuning=WINDOW) as catalog:
        first = catalog.engine.connect()
        second = catalog.engine.connect()
        first_raw = first.connection.dbapi_connection
        second_raw = second.connection.dbapi_connection
        first.close()
        second.close()  # returned last
        with catalog.engine.connect() as again:
            assert again.connection.dbapi_connection is second_raw
            assert again.connection.dbapi_connection is not first_raw
