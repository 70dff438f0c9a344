"""``artimuse-desktop list``: sort, filter and print the catalog's photos as a table, JSON or CSV.

Everything goes through ``catalog.queries`` so the command line, the GUI grid and export agree on what a
filter means. JSON and CSV carry every field (machine-readable, one object/row per photo); the table is for
people and shows an absent score as "—", never as 0.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import os
import sys
from datetime import datetime, time
from typing import Any

from artimuse_desktop.formatting import camera_name, int_at_least
from artimuse_desktop.vocabulary import COLOR_LABELS, FLAG_NONE, FLAG_PICK, FLAG_REJECT

_FLAGS = {"pick": FLAG_PICK, "reject": FLAG_REJECT, "none": FLAG_NONE}
_FLAG_NAMES = {FLAG_PICK: "pick", FLAG_REJECT: "reject", FLAG_NONE: ""}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list photos in the catalog, sorted and filtered",
        description="List the catalog's photos. Filters combine with AND.",
        epilog=(
            "sort keys: score, captured_at, filename, path, rating, size, flag, mtime, id, "
            'attr:"Composition & Design", measure:sharpness; prefix "-" (--sort -score) or suffix ":desc" for '
            "descending"
        ),
    )
    parser.add_argument("--sort", default="captured_at", metavar="KEY", help="sort key (default captured_at)")
    parser.add_argument("--rating", type=_rating, metavar="N", help="exactly N stars (0–5)")
    parser.add_argument("--min-rating", type=_rating, metavar="N", help="at least N stars")
    parser.add_argument(
        "--flag",
        action="append",
        choices=sorted(_FLAGS),
        help="pick, reject or none (repeatable: any of them)",
    )
    parser.add_argument(
        "--label",
        action="append",
        choices=[*COLOR_LABELS, "none"],
        help="colour label, or none (repeatable: any of them)",
    )
    parser.add_argument("--camera", metavar="TEXT", help="camera make or model contains TEXT")
    parser.add_argument("--lens", metavar="TEXT", help="lens contains TEXT")
    parser.add_argument("--from", dest="date_from", type=_date_from, metavar="DATE", help="captured on/after")
    parser.add_argument("--to", dest="date_to", type=_date_to, metavar="DATE", help="captured on/before")
    parser.add_argument("--folder", metavar="PATH", help="photos in this folder and below")
    parser.add_argument("--errors", action="store_true", help="only photos that could not be read")
    parser.add_argument("--missing", action="store_true", help="only photos whose file has vanished")
    parser.add_argument("--min-score", type=float, metavar="X")
    parser.add_argument("--max-score", type=float, metavar="X")
    parser.add_argument(
        "--min",
        action="append",
        default=[],
        type=_threshold,
        metavar="NAME=VALUE",
        help="attribute or technical measure at least VALUE (repeatable)",
    )
    parser.add_argument(
        "--max", action="append", default=[], type=_threshold, metavar="NAME=VALUE", help="... at most VALUE"
    )
    parser.add_argument("--search", metavar="TEXT", help="file names and critiques containing TEXT")
    parser.add_argument("--limit", type=int_at_least(0), metavar="N", help="at most N photos")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.set_defaults(func=run)
    _accept_descending_sort_keys(parser)


def _accept_descending_sort_keys(parser: argparse.ArgumentParser) -> None:
    """Let ``--sort -score`` work: argparse would take ``-score`` for an unknown option.

    Only words that are sort keys with a leading "-" are treated as values, so real options are unaffected.
    """
    original = getattr(parser, "_parse_optional", None)
    if original is None:  # pragma: no cover - a future argparse; --sort=-score still works
        return

    def parse_optional(arg_string: str) -> Any:
        if _is_descending_sort_key(arg_string):
            return None  # a positional-style value
        return original(arg_string)

    vars(parser)["_parse_optional"] = parse_optional


def _is_descending_sort_key(text: str) -> bool:
    if not text.startswith("-") or text.startswith("--"):
        return False  # most options: decided without importing the catalog (and SQLAlchemy)
    from artimuse_desktop.catalog.filters import SORT_KEYS

    key = text[1:].split(":", 1)[0].strip().lower()
    return key in SORT_KEYS or key in ("attr", "measure")


# --------------------------------------------------------------------------- argument types


def _rating(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 5:
        raise argparse.ArgumentTypeError("ratings go from 0 to 5")
    return value


def _parse_date(text: str) -> tuple[datetime, bool]:
    """(value, has_time) from ``2024-05-01``, ``2024-05-01T10:00``, ``2024:05:01 10:00:00``..."""
    cleaned = text.strip()
    if len(cleaned) >= 10 and cleaned[4] == ":" and cleaned[7] == ":":
        cleaned = cleaned[:10].replace(":", "-") + cleaned[10:]
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
    return value.replace(tzinfo=None), len(cleaned) > 10


def _date_from(text: str) -> datetime:
    return _parse_date(text)[0]


def _date_to(text: str) -> datetime:
    value, has_time = _parse_date(text)
    return value if has_time else datetime.combine(value.date(), time.max)  # the whole day


def _threshold(text: str) -> tuple[str, float]:
    name, sep, value = text.rpartition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name.strip().strip('"'), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None


# --------------------------------------------------------------------------- building the query


def _split_thresholds(items: list[tuple[str, float]], measures: set[str]) -> tuple[dict[str, float], dict[str, float]]:
    """(attributes, measures): a known measure name is a measure, else an attribute name if it is one."""
    from artimuse_desktop.vocabulary import canonical_attribute

    attributes: dict[str, float] = {}
    measure_values: dict[str, float] = {}
    for name, value in items:
        if name in measures:
            measure_values[name] = value
            continue
        try:
            attributes[canonical_attribute(name)] = value
        except ValueError:
            measure_values[name] = value
    return attributes, measure_values


def build_filter(args: argparse.Namespace, measures: set[str]) -> Any:
    from artimuse_desktop.catalog.filters import PhotoFilter
    from artimuse_desktop.catalog.models import STATUS_ERROR, STATUS_MISSING

    flt = PhotoFilter()
    if args.folder:
        flt.folder = os.path.abspath(args.folder)
    if args.flag:
        flt.flags = {_FLAGS[name] for name in args.flag}
    if args.rating is not None:
        flt.min_rating = flt.max_rating = args.rating
    if args.min_rating is not None:
        flt.min_rating = max(args.min_rating, flt.min_rating or 0)
    if args.label:
        flt.color_labels = {None if label == "none" else label for label in args.label}
    flt.camera = args.camera
    flt.lens = args.lens
    flt.date_from = args.date_from
    flt.date_to = args.date_to
    statuses: set[str] = set()
    if args.errors:
        statuses.add(STATUS_ERROR)
    if args.missing:
        statuses.add(STATUS_MISSING)
    flt.statuses = statuses or None
    flt.min_score = args.min_score
    flt.max_score = args.max_score
    flt.attr_min, flt.measure_min = _split_thresholds(args.min, measures)
    flt.attr_max, flt.measure_max = _split_thresholds(args.max, measures)
    flt.search = args.search
    return flt


# --------------------------------------------------------------------------- output


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _write(text: str) -> None:
    """Write to stdout; a path that is not valid UTF-8 comes out as \\udcXX escapes instead of crashing."""
    buffer = getattr(sys.stdout, "buffer", None)
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    if buffer is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode(encoding, "backslashreplace"))
    buffer.flush()


def render_json(records: list[Any]) -> str:
    rows = [{key: _jsonable(value) for key, value in dataclasses.asdict(record).items()} for record in records]
    # Lone surrogates (undecodable file names) become \udcXX escapes in _write: still valid, lossless JSON.
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


def render_csv(records: list[Any], field_names: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(field_names)
    for record in records:
        row = dataclasses.asdict(record)
        writer.writerow(["" if row[name] is None else _jsonable(row[name]) for name in field_names])
    return out.getvalue()


def _score_text(score: float | None) -> str:
    return "—" if score is None else f"{score:.2f}"


def render_table(records: list[Any]) -> str:
    from artimuse_desktop.commands.index import printable

    header = ["ID", "SCORE", "FLAG", "RATING", "LABEL", "CAPTURED", "CAMERA", "STATUS", "PATH"]
    rows: list[list[str]] = []
    for record in records:
        camera = camera_name(record.camera_make, record.camera_model) or ""
        path = printable(record.path)
        if record.error:
            path = f"{path}  ({record.error})"
        rows.append(
            [
                str(record.id),
                _score_text(record.score),
                _FLAG_NAMES.get(record.flag, str(record.flag)),
                str(record.rating) if record.rating else "",
                record.color_label or "",
                record.captured_at.strftime("%Y-%m-%d %H:%M:%S") if record.captured_at else "",
                camera,
                record.status,
                path,
            ]
        )
    widths = [max(len(row[index]) for row in [header, *rows]) for index in range(len(header) - 1)]
    right = {0, 1, 3}  # numbers align right

    def line(cells: list[str]) -> str:
        parts = [
            cell.rjust(widths[index]) if index in right else cell.ljust(widths[index])
            for index, cell in enumerate(cells[:-1])
        ]
        return "  ".join([*parts, cells[-1]]).rstrip()

    lines = [line(header), *(line(row) for row in rows)]
    count = len(records)
    lines.append(f"({count} photo{'s' if count != 1 else ''})")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from artimuse_desktop.catalog.db import open_catalog_for_reading
    from artimuse_desktop.catalog.filters import SortSpec
    from artimuse_desktop.catalog.library_stats import measure_names
    from artimuse_desktop.catalog.queries import query_photos
    from artimuse_desktop.catalog.records import PhotoRecord
    from artimuse_desktop.commands.catalog_option import catalog_path

    try:
        sort = SortSpec.parse(args.sort)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Read-only where the catalog cannot be written (a read-only folder, file or disk): listing needs no writes.
    with open_catalog_for_reading(catalog_path(args)) as catalog, catalog.read() as session:
        flt = build_filter(args, set(measure_names(session)))
        records = query_photos(session, flt, sort, limit=args.limit)
    if args.format == "json":
        _write(render_json(records))
    elif args.format == "csv":
        _write(render_csv(records, [f.name for f in dataclasses.fields(PhotoRecord)]))
    else:
        _write(render_table(records))
    return 0
