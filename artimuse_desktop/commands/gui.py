"""``artimuse-desktop gui [PATH ...]``: the desktop window (also what ``artimuse-desktop`` alone starts).

Registering the command imports nothing from Qt: the GUI package is imported inside ``run`` only, so every
other sub-command starts as fast as before.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "gui",
        help="open the desktop window (the default when no command is given)",
        description="Open the culling window. With PATHs (folders, or photos in them: a file manager's "
        '"Open with" passes every selected file), those folders are added to the library, indexed in the '
        "background and shown.",
    )
    parser.add_argument("paths", nargs="*", default=[], metavar="PATH", help="folders (or photos) to open")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from artimuse_desktop.commands.catalog_option import catalog_path
    from artimuse_desktop.gui.app import run as run_gui

    return run_gui(catalog_path(args), list(getattr(args, "paths", None) or []))
