"""The ``artimuse-desktop`` command line.

Each sub-command lives in ``artimuse_desktop/commands/<name>.py`` and exposes ``register(subparsers)``; the
modules are imported here, so they must stay light: no SQLAlchemy, Pillow, numpy, torch or Qt at module level
(``tests/test_startup.py`` checks what ``--help`` imports; the budget is 4x ``python -c pass``,
``bench/bench_startup.py``). With no sub-command the GUI starts.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from artimuse_desktop import __version__

COMMAND_MODULES: tuple[str, ...] = (
    "index",
    "list_photos",
    "duplicates",
    "score",
    "models",
    "critique",
    "export",
    "xmp",
    "roots",
    "gui",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="artimuse-desktop",
        description="Cull and browse photo libraries offline, with aesthetic scores and expert critiques.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--catalog",
        default=None,
        metavar="FILE|URL",
        help="catalog file, or a shared PostgreSQL catalog as postgresql+psycopg://USER@HOST/DATABASE "
        "(default: $ARTIMUSE_CATALOG or catalog.sqlite in the user data folder)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"artimuse_desktop.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # --help and --version end here, before logging and the log file are set up
    import contextlib
    import logging
    import os

    from artimuse_desktop.errors import ArtiMuseError
    from artimuse_desktop.logfile import route_warnings

    # A file name that is not valid UTF-8 (surrogate escapes) must not crash a summary line: print it escaped,
    # as Python already does on stderr.
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    route_warnings()  # Pillow's warnings about odd files go to the log file, never onto the terminal
    if args.command is None:
        args = parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "gui"])
        if getattr(args, "func", None) is None:
            parser.print_help()
            return 0
    try:
        result: int = args.func(args)
        return result
    except ArtiMuseError as exc:
        print(f"error: {exc.user_text()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `artimuse-desktop list | head`: the reader went away; that is not an error.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
