"""``artimuse-desktop xmp write|read``: exchange ratings, rejects and labels with other apps via XMP sidecars.

Light at import: the catalog and the XMP code load only when a command runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from typing import Any

from artimuse_desktop.export.filter_expr import FILTER_HELP


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "xmp",
        help="write decisions and scores to XMP sidecars, or read other apps' sidecars",
        description="Exchange decisions with Lightroom Classic, darktable, digiKam, Capture One and Photo "
        "Mechanic through XMP sidecars. Originals are never modified.",
    )
    actions = parser.add_subparsers(dest="xmp_action", metavar="ACTION")
    write = actions.add_parser(
        "write",
        help="write (merge) sidecars: rating, reject, colour label, ArtiMuse score and attributes",
        description=textwrap.fill(
            "Write the decisions made in ArtiMuse (xmp:Rating with -1 for rejects, xmp:Label) and "
            "the ArtiMuse score, attribute scores and model (artimuse:* namespace) into sidecars, for photos "
            "with a decision made here or a score. Only those fields are written: a rating or label set in "
            "another app (or imported from it) is left as it is. Existing sidecars are merged: every field we "
            "do not own is kept. A sidecar that cannot be parsed is reported, not touched; files that failed "
            "to index get none. Photos that would share a sidecar name in the lightroom style (photo.heic and "
            "photo.tif, IMG_0001.JPG and img_0001.jpg) get the full-name form, photo.heic.xmp, listed in the "
            "summary; a RAW+JPEG pair shares IMG_0001.xmp, which belongs to the RAW.",
            width=90,
        ),
        epilog=FILTER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    write.add_argument(
        "--style",
        choices=("lightroom", "darktable"),
        default="lightroom",
        help="IMG_0001.xmp (lightroom: Lightroom, Capture One, Photo Mechanic; default) or "
        "IMG_0001.CR2.xmp (darktable: darktable, digiKam)",
    )
    write.add_argument("--filter", action="append", default=[], metavar="EXPR", help="only matching photos")
    write.add_argument("--dry-run", action="store_true", help="list the sidecars that would be written")
    write.add_argument(
        "--all",
        action="store_true",
        dest="everything",
        help="also photos with nothing decided here and no score (their sidecars still carry only what was "
        "decided or scored here)",
    )
    write.set_defaults(func=run_write)

    read = actions.add_parser(
        "read",
        help="import ratings, rejects and labels from existing sidecars",
        description=textwrap.fill(
            "Read sidecars beside the photos (IMG_0001.CR2.xmp first, then IMG_0001.xmp) and copy "
            "rating, reject/pick and colour label into the catalog where the photo has no decision of that "
            "kind yet: decisions made in ArtiMuse always win.",
            width=90,
        ),
        epilog=FILTER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    read.add_argument("--filter", action="append", default=[], metavar="EXPR", help="only matching photos")
    read.set_defaults(func=run_read)
    parser.set_defaults(func=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _ids(catalog: Any, expressions: list[str]) -> list[int]:
    from artimuse_desktop.catalog import filters, queries
    from artimuse_desktop.export.filter_expr import parse_filter_expressions

    flt = parse_filter_expressions(expressions)
    with catalog.read() as session:
        return queries.photo_ids(session, flt, filters.SortSpec("id"))


def _printable(path: object) -> str:
    """A path safe to print anywhere: bytes that are not UTF-8 show as U+FFFD."""
    return os.fsencode(str(path)).decode("utf-8", "replace")


def run_write(args: argparse.Namespace) -> int:
    from artimuse_desktop.catalog import open_catalog
    from artimuse_desktop.commands.catalog_option import catalog_path
    from artimuse_desktop.export.xmp import write_sidecars

    catalog = open_catalog(catalog_path(args))
    try:
        ids = _ids(catalog, args.filter)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = write_sidecars(catalog, ids, args.style, dry_run=args.dry_run, everything=args.everything)
    if args.dry_run:
        for path in result.written:
            print(_printable(path))
    for line in result.summary_lines(args.style, dry_run=args.dry_run):
        print(_printable(line))
    for problem in result.failed:
        print(f"  failed: {_printable(problem.path)}: {problem.reason} (left untouched)", file=sys.stderr)
    return 1 if result.failed else 0


def run_read(args: argparse.Namespace) -> int:
    from artimuse_desktop.catalog import open_catalog
    from artimuse_desktop.commands.catalog_option import catalog_path
    from artimuse_desktop.library.sidecar_import import import_sidecar_decisions
    from artimuse_desktop.library.sidecars import SidecarProblem

    catalog = open_catalog(catalog_path(args))
    try:
        ids = _ids(catalog, args.filter) if args.filter else None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problems: list[SidecarProblem] = []
    changed = import_sidecar_decisions(catalog, ids, problems=problems)
    print(f"XMP: took decisions from sidecars for {changed} photos; {len(problems)} sidecars could not be read.")
    for problem in problems:
        print(f"  unreadable: {_printable(problem.path)}: {problem.reason} (left untouched)", file=sys.stderr)
    return 1 if problems else 0
