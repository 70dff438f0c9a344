"""``artimuse-desktop index PATH...``: add folders to the catalog and index their photos.

Progress goes to stderr (a redrawn bar on a terminal, a line every few seconds otherwise, so logs stay short);
the summary goes to stdout. Files that cannot be read do not make the command fail: they are listed with their
reason and the exit status is 0 as long as the scan ran. Ctrl+C stops cleanly (what was indexed is kept).
Previews: the index's decode writes them; the pass after it looks only at what that decode could not cover
(``previews.previews_after_index``), so adding one photo to a big library stays a fraction of a second.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from artimuse_desktop.formatting import int_at_least

if TYPE_CHECKING:  # the indexer loads when the command runs, not at every start of the CLI or GUI
    from artimuse_desktop.library.index_results import IndexProgress, IndexSummary
    from artimuse_desktop.library.previews import PreviewSummary


def printable(path: str) -> str:
    """A path safe to print anywhere: bytes that are not UTF-8 show as U+FFFD."""
    return os.fsencode(path).decode("utf-8", "replace")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "index",
        help="add folders to the catalog and index their photos",
        description=(
            "Scan folders for photos (JPEG, PNG, TIFF, WebP, HEIC, AVIF and camera RAW files), read their "
            "metadata and make thumbnails. Re-running it is cheap: unchanged files are skipped, moved or "
            "renamed files keep their ratings, vanished ones are marked missing (never removed)."
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="folders (or single photos) to index")
    parser.add_argument(
        "--workers", type=int_at_least(1), default=None, help="parallel decoders (default: all CPU cores)"
    )
    parser.add_argument(
        "--no-previews", action="store_true", help="skip the 1600 px previews (the grid thumbnails are made)"
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="decode again files that failed before, even if unchanged"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="list every folder and check every file, also in folders unchanged since the last scan (files "
        "rewritten in place under the same name are found this way; a full scan also runs once a day by itself), "
        "and look up every photo's preview, making those missing",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    parser.set_defaults(func=run)


class ProgressPrinter:
    """A plain-text progress line on stderr: redrawn in place on a terminal, throttled lines otherwise."""

    def __init__(self, stream: TextIO | None = None, *, interval: float | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.1 if self.tty else 2.0)
        self.last = 0.0
        self.phase = ""
        self.drawn = False

    def __call__(self, progress: IndexProgress) -> None:
        now = time.monotonic()
        finished = progress.total > 0 and progress.done >= progress.total
        new_phase = progress.phase != self.phase
        if new_phase and self.drawn and self.tty:
            self.stream.write("\n")
        self.phase = progress.phase
        if not (finished or new_phase or now - self.last >= self.interval):
            return
        self.last = now
        self.stream.write(self._line(progress, width=self._width()) if self.tty else self._line(progress) + "\n")
        self.stream.flush()
        self.drawn = True

    def _width(self) -> int:
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            return 100

    def _line(self, progress: IndexProgress, width: int | None = None) -> str:
        label = {"scan": "scanning", "match": "matching", "index": "indexing", "previews": "previews"}.get(
            progress.phase, progress.phase
        )
        if progress.total:
            fraction = min(1.0, progress.done / progress.total)
            bar = "#" * int(fraction * 24)
            text = f"{label:9} [{bar:<24}] {progress.done}/{progress.total} {progress.rate:6.1f}/s"
        else:
            text = f"{label:9} {progress.done} photos found"
        current = printable(progress.current or "")
        if width is None:
            return f"{text}  {current}" if current else text
        room = width - len(text) - 3
        if room > 10 and current:
            if len(current) > room:
                current = "…" + current[-(room - 1) :]
            text = f"{text}  {current}"
        return "\r" + text[: width - 1].ljust(width - 1)

    def close(self) -> None:
        if self.drawn and self.tty:
            self.stream.write("\n")
            self.stream.flush()
        self.drawn = False


@contextmanager
def _cancel_on_interrupt(token: Any) -> Iterator[None]:
    """First Ctrl+C asks the run to stop cleanly; a second one interrupts at once."""
    try:
        previous = signal.getsignal(signal.SIGINT)
    except ValueError:  # pragma: no cover - not the main thread
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        print("\nstopping after the files in progress (Ctrl+C again to abort)", file=sys.stderr)
        token.cancel()

    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # pragma: no cover - not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def format_summary(summary: IndexSummary, previews: PreviewSummary | None = None) -> str:
    lines: list[str] = []
    rate = summary.total / summary.elapsed if summary.elapsed > 0 else 0.0
    state = "Stopped early" if summary.cancelled else "Indexed"
    lines.append(f"{state}: {summary.total} photos in {summary.elapsed:.1f} s ({rate:.1f} photos/s)")
    for label, value in (
        ("new", summary.new),
        ("updated", summary.updated),
        ("moved", summary.moved),
        ("restored", summary.restored),
        ("unchanged", summary.unchanged),
        ("missing", summary.missing),
        ("failed", summary.failed),
    ):
        lines.append(f"  {label:<10} {value:>7}")
    if summary.skipped:
        lines.append(f"  {'skipped':<10} {len(summary.skipped):>7}  (not regular files)")
    if summary.sidecar_decisions:
        lines.append(f"  {'sidecars':<10} {summary.sidecar_decisions:>7}  photos took ratings/labels from XMP sidecars")
    if summary.file_decisions:
        lines.append(f"  {'in-file':<10} {summary.file_decisions:>7}  photos took ratings/labels from inside the file")
    if previews is not None:
        lines.append(
            f"  {'previews':<10} {previews.made:>7}  made, {previews.existing} already there"
            + (f", {previews.failed} failed" if previews.failed else "")
        )
    if summary.failures:
        lines.append("Failed:")
        lines += [f"  {printable(path)}: {reason}" for path, reason in sorted(summary.failures)]
    if previews is not None and previews.failures:
        lines.append("Previews not made:")
        lines += [f"  {printable(path)}: {reason}" for path, reason in sorted(previews.failures)]
    if summary.skipped:
        lines.append("Skipped:")
        lines += [f"  {printable(path)}: {reason}" for path, reason in sorted(summary.skipped)]
    if summary.sidecar_problems:
        lines.append("Unreadable XMP sidecars (left untouched):")
        lines += [f"  {printable(path)}: {reason}" for path, reason in sorted(summary.sidecar_problems)]
    if summary.embedded_problems:
        lines.append("XMP inside these photos was refused (indexed without it; the files were left untouched):")
        lines += [f"  {printable(path)}: {reason}" for path, reason in sorted(summary.embedded_problems)]
    if summary.unreadable:
        lines.append("Unreadable folders (their photos were left as they were):")
        lines += [f"  {printable(path)}: {reason}" for path, reason in sorted(summary.unreadable)]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from artimuse_desktop.cancel import CancelToken
    from artimuse_desktop.catalog.db import Catalog
    from artimuse_desktop.commands.catalog_option import catalog_path
    from artimuse_desktop.library.indexer import index_roots

    roots = [os.path.abspath(os.fsdecode(path)) for path in args.paths]
    absent = [path for path in roots if not os.path.exists(path)]
    if absent:
        for path in absent:
            print(f"error: no such file or folder: {printable(path)}", file=sys.stderr)
        return 2

    catalog = Catalog(catalog_path(args))
    token = CancelToken()
    printer = ProgressPrinter() if not args.quiet else None
    preview_summary: PreviewSummary | None = None
    try:
        with _cancel_on_interrupt(token):
            summary = index_roots(
                catalog,
                roots,
                progress=printer,
                cancel=token,
                workers=args.workers,
                retry_failed=args.retry_failed,
                previews=not args.no_previews,
                full_scan=args.full,
            )
            if not args.no_previews and not summary.cancelled:
                # The previews the index's own decode did not write: moved and restored photos, and every
                # photo of a root that may lack some (after --no-previews) or of every folder with --full.
                from artimuse_desktop.library.previews import previews_after_index

                preview_summary = previews_after_index(
                    catalog, summary, roots, full=args.full, progress=printer, cancel=token, workers=args.workers
                )
                if preview_summary.cancelled:
                    summary.cancelled = True
    finally:
        if printer is not None:
            printer.close()
        catalog.close()
    print(format_summary(summary, preview_summary))
    return 130 if summary.cancelled else 0
