"""``artimuse-desktop duplicates``: the same photo kept more than once, anywhere in the library.

Lists each group (exact copies by content fingerprint, near copies by perceptual hash) with the photo the keep
rules keep and why, as a table for people or JSON for scripts. ``--keep-best`` rejects the others in one
undoable step; it never moves or deletes a file.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NamedTuple

from artimuse_desktop.formatting import int_at_least

_FLAG_NAMES = {1: "pick", -1: "reject", 0: ""}
#: The bursts' default (``culling.bursts.DEFAULT_MAX_DISTANCE``; a test keeps them equal): repeated here so the
#: command line starts without importing the catalog.
DEFAULT_MAX_DISTANCE = 10


class _Shown(NamedTuple):
    path: str
    format: str | None
    width: int | None
    height: int | None
    rating: int
    score: float | None
    flag: int


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "duplicates",
        help="find copies of the same photo across the library (exact and near)",
        description=(
            "Group photos that are the same picture, in any folder: exact copies (same content) and near "
            "copies (re-encodes, resized exports, the JPEG beside its RAW) whose perceptual hashes differ by "
            "at most --max-distance bits. Each group keeps one photo: RAW over JPEG, the camera's original "
            "over a copy or export, then resolution, rating and score."
        ),
        epilog="Nothing is moved or deleted: --keep-best only flags the other photos as rejects (undo in the app).",
    )
    parser.add_argument("--exact-only", action="store_true", help="only identical files (same content)")
    parser.add_argument(
        "--max-distance",
        type=_distance,
        default=DEFAULT_MAX_DISTANCE,
        metavar="N",
        help=(
            f"bits two perceptual hashes may differ by, 0–32 (default {DEFAULT_MAX_DISTANCE}; larger finds more "
            "but pairs unrelated photos by chance: about 50 pairs in 100,000 random photos at 10, 1,100 at 12)"
        ),
    )
    parser.add_argument(
        "--keep-best",
        action="store_true",
        help="flag every photo but the kept one of each group as rejected (one undoable step)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=run)


def _distance(text: str) -> int:
    value = int_at_least(0)(text)
    if value > 32:  # culling.duplicates.MAX_DISTANCE_LIMIT
        raise argparse.ArgumentTypeError("at most 32: beyond half the 64 bits unrelated photos match as often as not")
    return value


def run(args: argparse.Namespace) -> int:
    from artimuse_desktop.catalog.db import open_catalog_for_reading
    from artimuse_desktop.commands.catalog_option import catalog_path
    from artimuse_desktop.culling.duplicates import find_duplicates, keep_best_reject_rest

    with open_catalog_for_reading(catalog_path(args)) as catalog:
        if args.keep_best and catalog.read_only:
            print(
                f"error: the catalog {catalog.location} cannot be written, so --keep-best cannot flag anything; "
                "list the groups without it, or make the catalog writable",
                file=sys.stderr,
            )
            return 2
        report = find_duplicates(catalog, max_distance=args.max_distance, exact_only=args.exact_only)
        change = keep_best_reject_rest(catalog, report.groups) if args.keep_best else None
        records = _records(catalog, report)  # after keep best: the flags as they are now
    if args.format == "json":
        _write(render_json(report, records))
    else:
        _write(render_table(report, records))
    if args.keep_best:
        rejected = len(change.photo_ids) if change is not None else 0
        groups = len(report.groups)
        note = "one step: Edit > Undo in the app restores them" if rejected else "nothing to change"
        message = f"Rejected {rejected} duplicate{'s' if rejected != 1 else ''} in {groups} group(s) ({note})."
        print(message, file=sys.stderr if args.format == "json" else sys.stdout)  # JSON on stdout stays valid
    return 0


def _records(catalog: Any, report: Any) -> dict[int, Any]:
    """What each row shows: the keep rules' view of the photo (path, size, rating, score) and its flag now."""
    from sqlalchemy import select

    from artimuse_desktop.catalog.models import Photo

    ids = list(report.member_ids)
    current: dict[int, int] = {}
    with catalog.read() as session:
        for start in range(0, len(ids), 900):  # SQLite's bound-parameter budget
            stmt = select(Photo.id, Photo.flag).where(Photo.id.in_(ids[start : start + 900]))
            current.update((pid, flag) for pid, flag in session.execute(stmt))
    return {
        c.photo_id: _Shown(c.path, c.format, c.width, c.height, c.rating, c.score, current.get(c.photo_id, 0))
        for group in report.groups
        for c in group.candidates
    }


def _write(text: str) -> None:
    from artimuse_desktop.commands.list_photos import _write as write

    write(text)


def render_json(report: Any, records: dict[int, Any]) -> str:
    """One object per group: kind, kept id, reason and its photos (keep order), plus the totals."""
    groups = []
    for number, group in enumerate(report.groups, start=1):
        photos = []
        for pid, bits, same in zip(group.photo_ids, group.distances, group.same_content, strict=True):
            record = records.get(pid)
            photos.append(
                {
                    "id": pid,
                    "path": record.path if record else None,
                    "keep": pid == group.best_id,
                    "distance": bits,
                    "same_content": same,
                    "format": record.format if record else None,
                    "width": record.width if record else None,
                    "height": record.height if record else None,
                    "rating": record.rating if record else None,
                    "flag": record.flag if record else None,
                    "score": record.score if record else None,
                }
            )
        groups.append(
            {"group": number, "kind": group.kind, "kept_id": group.best_id, "reason": group.reason, "photos": photos}
        )
    document = {
        "groups": groups,
        "photos_compared": report.photos,
        "without_perceptual_hash": report.without_hash,
        "duplicates": len(report.rest_ids),
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def render_table(report: Any, records: dict[int, Any]) -> str:
    """One row per photo, the kept one first in each group with the reason after its path."""
    from artimuse_desktop.commands.index import printable

    header = ["GROUP", "KIND", "ID", "KEEP-BEST", "BITS", "PIXELS", "RATING", "SCORE", "FLAG", "PATH"]
    rows: list[list[str]] = []
    for number, group in enumerate(report.groups, start=1):
        for pid, bits, same in zip(group.photo_ids, group.distances, group.same_content, strict=True):
            record = records.get(pid)
            keep = pid == group.best_id
            path = printable(record.path) if record else f"(photo {pid} is no longer in the catalog)"
            if keep and group.reason:
                path = f"{path}  ({group.reason})"
            pixels = f"{record.width}×{record.height}" if record and record.width and record.height else ""
            rows.append(
                [
                    str(number),
                    group.kind if keep else ("exact" if same else "near"),
                    str(pid),
                    "keep" if keep else "reject",
                    "" if bits is None else str(bits),
                    pixels,
                    str(record.rating) if record and record.rating else "",
                    f"{record.score:.2f}" if record and record.score is not None else "—",
                    _FLAG_NAMES.get(record.flag, str(record.flag)) if record else "",
                    path,
                ]
            )
    lines = _columns(header, rows) if rows else []
    photos = sum(group.count for group in report.groups)
    count = len(report.groups)
    summary = (
        f"({count} group{'s' if count != 1 else ''}, {photos} photos; keep best rejects {len(report.rest_ids)}"
        f" of {report.photos} compared"
    )
    if report.without_hash:
        summary += f"; {report.without_hash} without a perceptual hash matched by content only"
    lines.append(summary + ")")
    return "\n".join(lines) + "\n"


def _columns(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header) - 1)]
    right = {0, 2, 4, 6, 7}  # numbers align right

    def line(cells: list[str]) -> str:
        parts = [
            cell.rjust(widths[index]) if index in right else cell.ljust(widths[index])
            for index, cell in enumerate(cells[:-1])
        ]
        return "  ".join([*parts, cells[-1]]).rstrip()

    return [line(header), *(line(row) for row in rows)]
