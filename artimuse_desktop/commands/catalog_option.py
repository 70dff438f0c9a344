"""The ``--catalog`` option every command shares, below the commands and the CLI frame that registers them."""

from __future__ import annotations

import argparse
from pathlib import Path


def catalog_path(args: argparse.Namespace) -> Path | str:
    """The catalog file, or a ``postgresql+psycopg://`` URL kept as text (``Path`` would fold its ``//``)."""
    from artimuse_desktop import paths
    from artimuse_desktop.catalog.location import location_argument

    chosen = location_argument(str(args.catalog)) if args.catalog else None
    return chosen if chosen is not None else paths.default_catalog_path()
