"""The ``--catalog`` option every command shares, below the commands and the CLI frame that registers them."""

from __future__ import annotations

import argparse
from pathlib import Path


def catalog_path(args: argparse.Namespace) -> Path:
    from artimuse_desktop import paths

    return Path(args.catalog) if args.catalog else paths.default_catalog_path()
