"""What the export dialog asks for, and the work it runs on a pool thread: the same selection, plan, copier and
reports as ``artimuse-desktop export`` (``export.selection``, ``export.plan``, ``export.copier``, ``export.report``),
so the window and the terminal can never export differently.

Everything here is plain data and no Qt: a request goes in, a preview or an outcome comes out, and the dialog
turns those into widgets on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.errors import ExportError
from artimuse_desktop.export.copier import ExportProgress, execute_plan
from artimuse_desktop.export.copy_metadata import xmp_packets
from artimuse_desktop.export.naming import DEFAULT_TEMPLATE, TemplateError
from artimuse_desktop.export.plan import ExportPlan, build_plan, indexed_roots, library_root_holding
from artimuse_desktop.export.report import REPORT_FORMATS, write_reports
from artimuse_desktop.export.selection import Selection, select_photos

#: What an export can take: (key, what the dialog calls it).
WHAT = (
    ("picks", "Picks"),
    ("selection", "The selected photos"),
    ("top", "The top photos shown"),
    ("shown", "Every photo shown (the current filter)"),
)
PREVIEW_NAMES = 5


@dataclass(frozen=True)
class ExportRequest:
    """The dialog's choices as plain values (safe to hand to a pool thread)."""

    what: str = "picks"
    ids: tuple[int, ...] = ()  # the selection, or the photos the grid shows (in its order)
    top: int = 10
    by: str = "score"
    dest: str = ""
    mode: str = "copy"
    template: str = DEFAULT_TEMPLATE
    companions: bool = True
    sidecars: bool = True
    reports: tuple[str, ...] = REPORT_FORMATS
    force: bool = False  # into a folder inside an indexed library anyway (``export --force``)

    def selection(self) -> Selection:
        """The same ``Selection`` the command line builds from ``--picks`` / ``--top N --by KEY``."""
        if self.what == "picks":
            return Selection(picks=True)
        if self.what == "top":
            return Selection(ids=list(self.ids), top=max(1, self.top), by=self.by or "score")
        if self.what in ("selection", "shown"):
            return Selection(ids=list(self.ids))
        raise ValueError(f"unknown export choice {self.what!r}")

    @property
    def ranked_by(self) -> str | None:
        return self.by if self.what == "top" else None


@dataclass(frozen=True)
class ExportPreview:
    """How many photos the request takes, how big, and the first names they will get in DEST."""

    count: int = 0
    files: int = 0
    total_bytes: int = 0
    names: tuple[str, ...] = ()
    skipped: int = 0
    error: str | None = None  # a template that cannot be used: the reason
    library_root: str | None = None  # DEST lies inside this indexed library folder
    already_there: int = 0  # photos an earlier export already put in DEST, identical: not copied again


@dataclass
class ExportOutcome:
    """What an export did, for the dialog's summary and its list of problems."""

    dest: Path
    exported: int = 0
    files: int = 0
    bytes_written: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: bool = False
    reports: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "file: reason", one per failed or skipped photo
    leftovers: int = 0  # temporary files of an earlier, stopped export that were cleaned up
    unchanged: int = 0  # already in the folder from an earlier export, identical: not copied again

    def summary(self) -> str:
        if self.cancelled and not self.exported:
            return "Export cancelled: nothing was exported."
        if not self.exported and not self.failed:
            return f"Nothing to export ({self.skipped:,} skipped)." if self.skipped else "Nothing to export."
        state = "stopped early" if self.cancelled else "done"
        photos = f"{self.exported:,} photo" + ("" if self.exported == 1 else "s")
        files = f"{self.files:,} file" + ("" if self.files == 1 else "s")
        text = (
            f"Export {state}: {photos} ({files}, {human_bytes(self.bytes_written)} copied) into {self.dest}; "
            f"{self.failed:,} failed, {self.skipped:,} skipped."
        )
        if self.unchanged:
            text += f" {self.unchanged:,} already there from an earlier export (identical), not copied again."
        if self.leftovers:
            text += f" Removed {self.leftovers:,} temporary file(s) left by a stopped export."
        if self.reports:
            text += " Reports: " + ", ".join(path.name for path in self.reports) + "."
        return text


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover


def _plan(catalog: Catalog, request: ExportRequest) -> ExportPlan:
    if not request.dest.strip():
        raise ExportError("choose a destination folder for the export", hint="use Choose… beside Destination")
    photos = select_photos(catalog, request.selection())
    return build_plan(
        photos,
        request.dest,
        template=request.template,
        mode=request.mode,
        companions=request.companions,
        sidecars=request.sidecars,
    )


def preview(catalog: Catalog, request: ExportRequest, limit: int = PREVIEW_NAMES) -> ExportPreview:
    """The plan's first names, exactly as the export will allocate them (taken names get " (2)")."""
    try:
        plan = _plan(catalog, request)
    except TemplateError as exc:
        return ExportPreview(error=str(exc))
    names = tuple(str(item.destination.relative_to(plan.dest)) for item in plan.items[:limit])
    root = library_root_holding(plan, indexed_roots(catalog))
    already = sum(1 for item in plan.items if item.already_there)
    return ExportPreview(
        len(plan.items), plan.file_count, plan.total_bytes, names, len(plan.skipped), None, root, already
    )


def library_warning(dest: str | Path, root: str) -> str:
    """The command line's words for an export folder inside the library."""
    return (
        f"{dest} is inside the indexed library folder {root}: the next index of it would catalogue the copies "
        "as duplicates of their originals"
    )


def run_export(
    catalog: Catalog,
    request: ExportRequest,
    cancel: CancelToken,
    progress: Callable[[ExportProgress], None] | None = None,
) -> ExportOutcome:
    """Plan, copy (verified), then write the reports for what was exported; on a pool thread.

    Raises ExportError for a bad template or a destination that cannot be created; everything per photo is
    collected in ``problems`` and the run goes on."""
    try:
        plan = _plan(catalog, request)
    except (TemplateError, ValueError) as exc:
        raise ExportError(str(exc), hint="change the name template") from exc
    root = library_root_holding(plan, indexed_roots(catalog))
    if root is not None and not request.force:
        raise ExportError(
            f"not exporting: {library_warning(plan.dest, root)}",
            hint="choose a folder outside the library, or tick “Export into the library folder anyway”",
        )
    outcome = ExportOutcome(plan.dest, skipped=len(plan.skipped))
    outcome.problems += [f"skipped: {s.photo.record.path}: {s.reason}" for s in plan.skipped]
    if cancel.cancelled:
        outcome.cancelled = True
        return outcome
    if not plan.items:
        return outcome
    packets = xmp_packets(catalog, plan.items) if plan.mode == "copy" else {}
    result = execute_plan(plan, cancel=cancel, progress=progress, xmp_packets=packets)
    outcome.unchanged = len(result.unchanged)
    outcome.exported = len(result.exported)
    outcome.files = sum(len(e.files) for e in result.exported)
    outcome.bytes_written = result.bytes_written
    outcome.failed = len(result.failures)
    outcome.cancelled = result.cancelled
    outcome.leftovers = len(result.leftovers_removed)
    outcome.problems = [f"failed: {f.source}: {f.reason}" for f in result.failures] + outcome.problems
    reported = [*result.unchanged, *(e.item for e in result.exported)]
    if request.reports and reported:
        try:
            outcome.reports = write_reports(catalog, reported, plan.dest, request.reports, by=request.ranked_by)
        except OSError as exc:  # the photos are out; say why the reports are not
            outcome.problems.append(f"could not write the reports into {plan.dest}: {exc.strerror or exc}")
    return outcome
