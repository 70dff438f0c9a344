"""The catalog: SQLite file, typed models, migrations and queries. The ground floor; imports no Qt."""

from artimuse_desktop.catalog.db import Catalog, open_catalog

__all__ = ["Catalog", "open_catalog"]
