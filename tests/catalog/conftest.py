"""The catalog tests run on both engines: every test here that takes ``catalog`` runs once on a SQLite file and
once on a fresh PostgreSQL database (``tests/postgres.py``), unless it is marked ``sqlite_only``.

SQLite-only are the tests of the file itself (frozen released files, read-only folders, the copy kept before
an upgrade, kill -9 during an upgrade, PRAGMAs): they build their own catalog file from ``tmp_path`` and never
take ``catalog``, or carry the marker. What only PostgreSQL does is in ``test_postgres_catalog.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from artimuse_desktop.catalog import Catalog

BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: a catalog test about the SQLite file; not run on PostgreSQL")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "catalog_backend" in metafunc.fixturenames:
        only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
        metafunc.parametrize("catalog_backend", BACKENDS[:1] if only_sqlite else BACKENDS)


@pytest.fixture
def catalog_backend() -> str:
    return "sqlite"  # replaced by the parametrization above


@pytest.fixture
def catalog(catalog_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Catalog]:
    """A new, migrated catalog (a file in the test's folder, or a fresh PostgreSQL database), closed afterwards."""
    from artimuse_desktop.catalog import Catalog

    location = tmp_path / "catalog.sqlite" if catalog_backend == "sqlite" else request.getfixturevalue("postgres_url")
    with Catalog(location) as opened:
        yield opened
