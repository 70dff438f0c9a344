"""The catalog: SQLite file, typed models, migrations and queries. The ground floor; imports no Qt.

``Catalog`` and ``open_catalog`` are looked up on first use (PEP 562), so importing a light submodule such as
``catalog.records`` does not pull in SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from artimuse_desktop.catalog.db import Catalog, open_catalog

__all__ = ["Catalog", "open_catalog"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from artimuse_desktop.catalog import db

        return getattr(db, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
