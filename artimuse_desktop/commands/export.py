"""``artimuse-desktop export`` (copy the best photos out, with reports) and ``trash-rejects``.

Light at import: the catalog and the export package load only when a command runs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import textwrap
from typing import Any

from artimuse_desktop.export.filter_expr import FILTER_HELP

TEMPLATE_HELP = """\
name templates (--template; the extension is added for you, "/" makes sub-folders):
  {original}  file name without extension   {ext}     its extension, without the dot
  {date:%Y%m%d}  capture time (any strftime format; "undated" when unknown)
  {camera}  {lens}                          {score}   rounded score, e.g. 87 ({score:.1f} for 87.3)
  {rank}  place in the ranking, 001 = best  {seq}     number in capture-time order
  {label}  {rating}  {flag}                 colour label, stars 0-5, pick/reject
  e.g. --template "{rank}_{original}"   --template "{date:%Y-%m-%d}/{camera}_{seq}"
  Field values never create folders or climb out of DEST; names that are taken get " (2)" (or -2).
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "export",
        help="copy the top picks out of the library, with CSV/JSON reports and a contact sheet",
        description=textwrap.fill(
            "Export photos into DEST: copies are verified (size and BLAKE2b) before they take "
            "their final name, nothing is ever overwritten, RAW+JPEG partners and existing sidecars travel "
            "along, and the originals are only read. Choose what to export with at least one of --picks, "
            "--top, --min-score, --filter or --all-filtered (they combine: --picks --min-score 70 "
            "exports the picks scoring 70 or more).",
            width=90,
        ),
        epilog=FILTER_HELP + "\n" + TEMPLATE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dest", metavar="DEST", help="the export folder (created when missing)")
    choose = parser.add_argument_group("what to export")
    choose.add_argument("--picks", action="store_true", help="photos flagged as picks")
    choose.add_argument("--top", type=int, metavar="N", help="the N best by --by (default: the score)")
    choose.add_argument(
        "--by",
        metavar="KEY",
        help="rank by: score (default), attr:NAME (e.g. attr:composition), measure:NAME[:asc]",
    )
    choose.add_argument("--min-score", type=float, metavar="X", help="photos scoring X or more")
    choose.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="EXPR",
        help="a filter expression (repeatable; see below)",
    )
    choose.add_argument(
        "--all-filtered",
        action="store_true",
        help="everything the filters match (the whole catalog without any)",
    )
    out = parser.add_argument_group("how")
    out.add_argument("--mode", choices=("copy", "hardlink", "symlink"), default="copy", help="default: copy")
    out.add_argument("--template", default="{original}", help='file name template (default: "{original}")')
    out.add_argument(
        "--suffix",
        choices=("paren", "dash"),
        default="paren",
        help='on a name clash add " (2)" (paren) or "-2"',
    )
    out.add_argument("--no-companions", action="store_true", help="leave RAW+JPEG partners behind")
    out.add_argument("--no-sidecars", action="store_true", help="leave existing .xmp/.aae sidecars behind")
    out.add_argument(
        "--report", default="csv,json,html", metavar="LIST", help="csv,json,html (default: all three) or none"
    )
    out.add_argument("--dry-run", action="store_true", help="list what would be written; write nothing")
    out.add_argument("--no-verify", action="store_true", help="skip reading copies back (faster, less safe)")
    out.add_argument(
        "--no-embed-xmp",
        action="store_true",
        help="do not write rating, label and scores inside exported JPEG/PNG copies (originals are never written)",
    )
    out.add_argument(
        "--force",
        action="store_true",
        help="export into a folder inside an indexed library anyway (the copies would be indexed as duplicates)",
    )
    parser.set_defaults(func=run_export)

    trash = subparsers.add_parser(
        "trash-rejects",
        help="move rejected photos (and their own sidecars) to the system trash",
        description=textwrap.fill(
            "Send every rejected photo to the desktop's trash (never a permanent delete), with its "
            "own sidecars, and mark it trashed in the catalog. RAW+JPEG partners stay unless they are "
            "rejected too. Asks for confirmation unless --yes; without a terminal it refuses unless "
            "--yes is given.",
            width=90,
        ),
        epilog=FILTER_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    trash.add_argument("--yes", action="store_true", help="do not ask; trash them")
    trash.add_argument("--filter", action="append", default=[], metavar="EXPR", help="only rejects matching this")
    trash.add_argument("--dry-run", action="store_true", help="list what would go to the trash")
    trash.set_defaults(func=run_trash)


def _human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


def _parse_filters(expressions: list[str]) -> Any:
    from artimuse_desktop.export.filter_expr import parse_filter_expressions

    return parse_filter_expressions(expressions) if expressions else None


def _report_formats(text: str) -> list[str]:
    from artimuse_desktop.export.report import REPORT_FORMATS

    value = text.strip().lower()
    if value in ("none", "no", ""):
        return []
    formats = [part.strip() for part in value.split(",") if part.strip()]
    for part in formats:
        if part not in REPORT_FORMATS:
            raise ValueError(f"unknown report format {part!r}; use {', '.join(REPORT_FORMATS)} or none")
    return formats


def _inside_library(catalog: Any, plan: Any) -> str | None:
    from artimuse_desktop.export.plan import indexed_roots, library_root_holding

    return library_root_holding(plan, indexed_roots(catalog))


def _library_warning(dest: Any, root: str) -> str:
    return (
        f"{dest} is inside the indexed library folder {root}: the next index of it would catalogue the copies "
        "as duplicates of their originals"
    )


def run_export(args: argparse.Namespace) -> int:
    from artimuse_desktop.cancel import CancelToken
    from artimuse_desktop.catalog.db import open_catalog_for_reading
    from artimuse_desktop.commands.catalog_option import catalog_path
    from artimuse_desktop.commands.progress import ProgressLine
    from artimuse_desktop.export.copier import ExportProgress, execute_plan
    from artimuse_desktop.export.copy_metadata import xmp_packets
    from artimuse_desktop.export.naming import TemplateError
    from artimuse_desktop.export.plan import build_plan
    from artimuse_desktop.export.report import write_reports
    from artimuse_desktop.export.selection import Selection, select_photos

    try:
        flt = _parse_filters(args.filter)
        formats = _report_formats(args.report)
        selection = Selection(
            picks=args.picks,
            top=args.top,
            by=args.by,
            min_score=args.min_score,
            filter=flt,
            everything=args.all_filtered,
        )
        if selection.is_empty():
            raise ValueError("choose what to export: --picks, --top N, --min-score X, --filter EXPR or --all-filtered")
        catalog = open_catalog_for_reading(catalog_path(args))  # export only reads the catalog
        photos = select_photos(catalog, selection)
        plan = build_plan(
            photos,
            args.dest,
            template=args.template,
            mode=args.mode,
            companions=not args.no_companions,
            sidecars=not args.no_sidecars,
            suffix_style=args.suffix,
        )
    except (ValueError, TemplateError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    library_root = _inside_library(catalog, plan)
    if library_root is not None:
        if not (args.force or args.dry_run):
            print(
                f"error: not exporting: {_library_warning(plan.dest, library_root)}\n"
                "  hint: choose a folder outside the library, or pass --force to export there anyway",
                file=sys.stderr,
            )
            return 2
        needs = "" if args.force else " (a real export needs --force)"
        print(f"warning: {_library_warning(plan.dest, library_root)}{needs}", file=sys.stderr)
    if args.dry_run:
        for line in plan.describe():
            print(line)
        print(
            f"Dry run: would {args.mode} {len(plan.items)} photos ({plan.file_count} files, "
            f"{_human_bytes(plan.total_bytes)}) into {plan.dest}; {len(plan.skipped)} skipped. "
            "Nothing was written."
        )
        return 0
    if not plan.items:
        print(f"Nothing to export ({len(plan.skipped)} skipped).")
        for skipped in plan.skipped:
            print(f"  skipped: {skipped.photo.record.path}: {skipped.reason}", file=sys.stderr)
        return 0 if not plan.skipped else 1

    cancel = CancelToken()
    bar = ProgressLine(f"export ({args.mode})")

    def on_progress(p: ExportProgress) -> None:
        bar.update(p.done_items, p.total_items, current=p.current)

    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        packets = {} if args.no_embed_xmp or args.mode != "copy" else xmp_packets(catalog, plan.items)
        result = execute_plan(plan, cancel=cancel, progress=on_progress, verify=not args.no_verify, xmp_packets=packets)
    finally:
        signal.signal(signal.SIGINT, previous)
        bar.finish()
    reports = []
    report_error = None
    reported = [*result.unchanged, *(e.item for e in result.exported)]
    if formats and reported:
        try:
            reports = write_reports(catalog, reported, plan.dest, formats, by=args.by)
        except OSError as exc:  # the photos are out; say why the reports are not
            report_error = f"could not write the reports into {plan.dest}: {exc.strerror or exc}"
    files = sum(len(e.files) for e in result.exported)
    state = "stopped early" if result.cancelled else "done"
    print(
        f"Export {state}: {len(result.exported)} photos ({files} files, "
        f"{_human_bytes(result.bytes_written)} copied) into {plan.dest}; "
        f"{len(result.failures)} failed, {len(plan.skipped)} skipped."
    )
    if result.unchanged:
        print(f"  {len(result.unchanged)} already in {plan.dest} from an earlier export, identical: not copied again")
    if result.embedded:
        print(f"  {result.embedded} copies carry rating, label and scores inside (XMP)")
    for note in result.notes:
        print(f"  note: {note}", file=sys.stderr)
    if result.leftovers_removed:
        print(f"  removed {len(result.leftovers_removed)} temporary file(s) left in {plan.dest} by a stopped export")
    for report in reports:
        print(f"  report: {report}")
    if report_error:
        print(f"  error: {report_error}", file=sys.stderr)
    for failure in result.failures:
        print(f"  failed: {failure.source}: {failure.reason}", file=sys.stderr)
    for skipped in plan.skipped:
        print(f"  skipped: {skipped.photo.record.path}: {skipped.reason}", file=sys.stderr)
    if result.cancelled:
        return 130
    return 1 if result.failures or report_error else 0


def _confirm(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        return False
    try:
        answer = input(question)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def run_trash(args: argparse.Namespace) -> int:
    from artimuse_desktop.cancel import CancelToken
    from artimuse_desktop.catalog import open_catalog
    from artimuse_desktop.commands.catalog_option import catalog_path
    from artimuse_desktop.export.trash import move_rejects_to_trash, plan_trash

    try:
        flt = _parse_filters(args.filter)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    catalog = open_catalog(catalog_path(args))
    plan = plan_trash(catalog, flt=flt)
    if plan.count == 0:
        print("No rejected photos to move to the trash.")
        return 0
    noun = "photo" if plan.count == 1 else "photos"
    extra = plan.file_count - plan.count
    sidecar_note = f" and {extra} sidecar{'s' if extra != 1 else ''}" if extra else ""
    if args.dry_run or not args.yes:
        for item in plan.items:
            print(f"  {item.path}" + "".join(f"\n    + {s.name}" for s in item.sidecars))
    summary = f"{plan.count} rejected {noun}{sidecar_note}"
    if args.dry_run:
        print(f"Dry run: would move {summary} to the trash. Nothing was moved.")
        return 0
    if not args.yes:
        if not sys.stdin or not sys.stdin.isatty():
            print(
                f"error: refusing to move {summary} to the trash without confirmation; "
                "run it in a terminal or pass --yes",
                file=sys.stderr,
            )
            return 2
        if not _confirm(f"Move {summary} to the trash? [y/N] "):
            print("Nothing was moved.")
            return 1
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        result = move_rejects_to_trash(catalog, plan, confirm=plan.count, cancel=cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
    print(
        f"Moved {len(result.trashed)} {noun if len(result.trashed) == plan.count else 'photos'} "
        f"({len(result.files)} files) to the trash; {len(result.failures)} failed, "
        f"{len(result.skipped)} skipped."
    )
    for failure in result.failures:
        print(f"  failed: {failure.path}: {failure.reason}", file=sys.stderr)
    if result.cancelled:
        return 130
    return 1 if result.failures else 0
