"""``artimuse-desktop roots``: the library roots, where this computer sees each, and ``roots map`` to say so.

A studio's NAS folder is mounted at different paths on different computers; the catalog keeps each root at
the path it was first indexed from, and each computer's own place for it (``catalog.root_locations``). Light
at import: the catalog loads only when the command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "roots",
        help="list the library roots and where this computer sees them, or map one to a local folder",
        description="List the library roots with this computer's location of each. A root mounted at another "
        "path here (the same NAS folder at /Volumes/Photos on one computer and /mnt/photos on another) is "
        "mapped once with `roots map ROOT LOCAL_PATH`; then indexing, listing, previews and export use the "
        "local path, and the photos, decisions and scores stay the same ones.",
    )
    parser.set_defaults(func=run_list)
    actions = parser.add_subparsers(dest="roots_action", metavar="ACTION")
    listing = actions.add_parser("list", help="list the roots (the default)")
    listing.set_defaults(func=run_list)
    mapping = actions.add_parser(
        "map",
        help="record where this computer sees a root",
        description="Record that this computer sees ROOT (its id, or its path in the catalog) at LOCAL_PATH.",
    )
    mapping.add_argument("root", metavar="ROOT", help="the root's id or its path as `roots` lists it")
    mapping.add_argument("local_path", metavar="LOCAL_PATH", help="the folder where this computer sees it")
    mapping.set_defaults(func=run_map)
    unmapping = actions.add_parser("unmap", help="forget this computer's location of a root")
    unmapping.add_argument("root", metavar="ROOT", help="the root's id or its path")
    unmapping.set_defaults(func=run_unmap)


def _printable(path: str) -> str:
    return os.fsencode(path).decode("utf-8", "replace")


def _line(root: Any) -> str:
    count = f"{root.photos:,} photo" + ("" if root.photos == 1 else "s")
    where = _printable(root.local_path)
    if root.mapped:
        where += f"  (in the catalog: {_printable(root.path)})"
    return f"{root.id:>4}  {count:>14}  {where}"


def run_list(args: argparse.Namespace) -> int:
    from artimuse_desktop.catalog.db import open_catalog_for_reading
    from artimuse_desktop.catalog.root_locations import list_roots
    from artimuse_desktop.commands.catalog_option import catalog_path
    from artimuse_desktop.identity import machine_id

    with open_catalog_for_reading(catalog_path(args)) as catalog:
        roots = list_roots(catalog)
    print(f"library roots as this computer ({machine_id()}) sees them:")
    for root in roots:
        print(_line(root))
    if not roots:
        print("  none yet: index a folder with `artimuse-desktop index PATH`")
    return 0


def _change(args: argparse.Namespace, local_path: str | None) -> int:
    from artimuse_desktop.catalog import open_catalog
    from artimuse_desktop.catalog.root_locations import map_root
    from artimuse_desktop.commands.catalog_option import catalog_path

    with open_catalog(catalog_path(args)) as catalog:
        try:
            root = map_root(catalog, args.root, local_path)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(_line(root))
    return 0


def run_map(args: argparse.Namespace) -> int:
    return _change(args, args.local_path)


def run_unmap(args: argparse.Namespace) -> int:
    return _change(args, None)
