"""Executing an export plan: verified copies (or hard/symbolic links), all-or-nothing per photo group.

A copy is written to a hidden temporary name in the destination folder (``.NAME.<token>.partial``), flushed,
read back and compared with the source (size and a streamed BLAKE2b digest), given the source's timestamps and
permission bits (``shutil.copy2`` semantics) and only then linked under its final name with an operation that
refuses to replace an existing file. A group (photo, RAW/JPEG partner, sidecars) is committed together: if any
file fails or the export is cancelled, the group's temporary files and any of its files already committed are
removed, so a cancelled or failed export never leaves a half-written file under a final name. Sources are
opened read-only and never modified.

A kill -9 cannot clean up, so each run first removes the ``.partial`` files an earlier, killed run left in the
folders it writes into (``leftovers``: our exact name pattern only, and never a file a running export holds:
each partial is ``flock``-ed while it exists). ``ExportResult.leftovers_removed`` says how many went.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.errors import ExportError
from artimuse_desktop.export.embed_xmp import EmbedError, can_embed, embed_xmp
from artimuse_desktop.export.leftovers import PARTIAL_PATTERN, mark_in_use, release, remove_leftovers
from artimuse_desktop.export.plan import ROLE_PAIR, ROLE_PHOTO, ExportPlan, PlanItem, PlannedFile

log = logging.getLogger(__name__)

CHUNK = 1 << 20
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class ExportProgress:
    """Plain data for a progress bar: safe to hand across threads."""

    done_items: int
    total_items: int
    done_bytes: int
    total_bytes: int
    current: str  # the destination name being written, relative to DEST
    failed: int


ProgressCallback = Callable[[ExportProgress], None]


@dataclass(frozen=True)
class ExportFailure:
    """One photo group that could not be exported, naming the file that failed and why."""

    photo_id: int
    source: Path
    destination: Path | None
    reason: str


@dataclass(frozen=True)
class ExportedItem:
    item: PlanItem
    files: tuple[Path, ...]


@dataclass
class ExportResult:
    plan: ExportPlan
    exported: list[ExportedItem] = field(default_factory=list)
    failures: list[ExportFailure] = field(default_factory=list)
    cancelled: bool = False
    bytes_written: int = 0
    leftovers_removed: list[Path] = field(default_factory=list)  # temporary files of an earlier, killed run
    unchanged: list[PlanItem] = field(default_factory=list)  # already in DEST from an earlier export, identical
    embedded: int = 0  # copies that carry their XMP inside
    notes: list[str] = field(default_factory=list)  # e.g. why XMP could not go inside one copy

    @property
    def ok(self) -> bool:
        return not self.failures and not self.cancelled


class _Cancelled(Exception):
    pass


class _FileFailed(Exception):
    def __init__(self, planned: PlannedFile, reason: str) -> None:
        super().__init__(reason)
        self.planned = planned
        self.reason = reason


def partial_name(final: Path) -> Path:
    """The hidden temporary name a copy is written under before it is verified."""
    token = secrets.token_hex(4)
    return final.with_name(f".{final.name}.{token}{PARTIAL_SUFFIX}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def _open_source(path: Path) -> int:
    """Open read-only, never following into write mode; ``O_NOATIME`` where the OS allows it."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    if noatime:
        try:
            return os.open(path, flags | noatime)
        except PermissionError:
            pass
    return os.open(path, flags)


def _digest_file(path: Path, cancel: CancelToken | None) -> tuple[int, bytes]:
    digest = hashlib.blake2b(digest_size=32)
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            if cancel is not None and cancel.cancelled:
                raise _Cancelled
            digest.update(chunk)
            size += len(chunk)
    return size, digest.digest()


def link_no_replace(source: Path, final: Path) -> None:
    """Give ``source``'s file the name ``final`` without ever replacing an existing ``final``."""
    try:
        os.link(source, final)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (
            errno.EPERM,
            errno.ENOTSUP,
            errno.EOPNOTSUPP,
            errno.EXDEV,
            errno.EMLINK,
            errno.ENOSYS,
        ):
            raise
        # File systems without hard links (FAT, some network shares): check, then rename (small race).
        if os.path.lexists(final):
            raise FileExistsError(errno.EEXIST, "the file exists", str(final)) from None
        os.rename(source, final)
        return
    remove_file(source)


def remove_file(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except PermissionError:
        # Windows will not delete a read-only file; the copied permission bits may say read-only.
        os.chmod(path, 0o600)
        os.unlink(path)


class Copier:
    """Runs one plan. Reusable pieces are methods so the GUI worker and the CLI share them."""

    def __init__(
        self,
        plan: ExportPlan,
        *,
        cancel: CancelToken | None = None,
        progress: ProgressCallback | None = None,
        verify: bool = True,
        fsync: bool = True,
        xmp_packets: Mapping[int, bytes] | None = None,
    ) -> None:
        self.plan = plan
        self.xmp_packets = xmp_packets or {}
        self.cancel = cancel
        self.progress = progress
        self.verify = verify
        self.fsync = fsync
        self.result = ExportResult(plan)
        self._done_bytes = 0
        self._done_items = 0

    # ------------------------------------------------------------------ progress and cancel
    def _report(self, current: str) -> None:
        if self.progress is not None:
            self.progress(
                ExportProgress(
                    self._done_items,
                    len(self.plan.items),
                    self._done_bytes,
                    self.plan.total_bytes,
                    current,
                    len(self.result.failures),
                )
            )

    def _check_cancel(self) -> None:
        if self.cancel is not None:
            if not self.cancel.wait_if_paused():
                raise _Cancelled
            if self.cancel.cancelled:
                raise _Cancelled

    # ------------------------------------------------------------------ one file
    def _stage_copy(self, planned: PlannedFile, partial: Path, locks: list[int | None]) -> int:
        """Copy to ``partial``, verify it, copy timestamps; returns the bytes written. The partial stays
        locked (``locks``) until the group is committed or cleaned up, so no other run sweeps it away."""
        source = planned.source
        digest = hashlib.blake2b(digest_size=32)
        written = 0
        source_fd = _open_source(source)
        try:
            before = os.fstat(source_fd)
            with open(partial, "xb") as out:
                locks.append(mark_in_use(partial))
                while True:
                    self._check_cancel()
                    chunk = os.read(source_fd, CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
                    self._done_bytes += len(chunk)
                out.flush()
                if self.fsync:
                    os.fsync(out.fileno())
            after = os.fstat(source_fd)
        finally:
            os.close(source_fd)
        if written != before.st_size or (before.st_size, before.st_mtime_ns) != (
            after.st_size,
            after.st_mtime_ns,
        ):
            raise _FileFailed(planned, "the source changed while it was being copied")
        if self.verify:
            size, check = _digest_file(partial, self.cancel)
            if size != written or check != digest.digest():
                raise _FileFailed(planned, "the copy does not match the source (verification failed)")
        shutil.copystat(source, partial)
        return written

    # ------------------------------------------------------------------ one group
    def _embed(self, item: PlanItem, planned: PlannedFile, partial: Path) -> None:
        _embed_into(self, item, planned, partial)

    def _export_item(self, item: PlanItem) -> ExportedItem:
        staged: list[tuple[PlannedFile, Path | None]] = []  # (file, partial or None for links)
        committed: list[Path] = []
        created_dirs: list[Path] = []
        locks: list[int | None] = []
        mode = self.plan.mode
        try:
            for planned in item.files:
                self._check_cancel()
                self._report(str(planned.destination.relative_to(self.plan.dest)))
                parent = planned.destination.parent
                try:
                    created_dirs.extend(_make_dirs(parent))
                except OSError as exc:
                    raise _FileFailed(planned, f"cannot create the folder {parent}: {_describe(exc)}") from exc
                if not planned.source.exists():
                    raise _FileFailed(planned, "the source file is gone")
                if mode == "copy":
                    partial = partial_name(planned.destination)
                    staged.append((planned, partial))
                    try:
                        self.result.bytes_written += self._stage_copy(planned, partial, locks)
                    except (_Cancelled, _FileFailed):
                        raise
                    except OSError as exc:
                        raise _FileFailed(planned, _describe(exc)) from exc
                    self._embed(item, planned, partial)
                else:
                    staged.append((planned, None))
            self._check_cancel()
            for planned, staged_partial in staged:
                try:
                    if staged_partial is not None:
                        link_no_replace(staged_partial, planned.destination)
                    elif mode == "hardlink":
                        os.link(planned.source, planned.destination)
                        self._done_bytes += planned.size
                    else:
                        os.symlink(os.path.abspath(planned.source), planned.destination)
                        self._done_bytes += planned.size
                except FileExistsError as exc:
                    raise _FileFailed(
                        planned, "a file with this name appeared in the meantime; not overwritten"
                    ) from exc
                except OSError as exc:
                    hint = " (hard links need DEST on the same drive as the photos)" if exc.errno == errno.EXDEV else ""
                    raise _FileFailed(planned, _describe(exc) + hint) from exc
                committed.append(planned.destination)
            return ExportedItem(item, tuple(committed))
        except BaseException:
            for _planned, leftover in staged:
                if leftover is not None:
                    _silently(remove_file, leftover)
            for path in committed:
                _silently(remove_file, path)
            for folder in reversed(created_dirs):
                _silently(os.rmdir, folder)
            raise
        finally:
            for lock in locks:
                release(lock)

    def run(self) -> ExportResult:
        """Export every item; failures are collected per photo, cancellation stops after cleaning up."""
        plan = self.plan
        try:
            os.makedirs(plan.dest, exist_ok=True)
        except OSError as exc:
            raise ExportError(
                f"cannot create the export folder {plan.dest}: {_describe(exc)}",
                hint="choose a folder you can write to",
            ) from exc
        folders = [plan.dest, *(planned.destination.parent for item in plan.items for planned in item.files)]
        self.result.leftovers_removed = remove_leftovers(folders, PARTIAL_PATTERN)
        for item in plan.items:
            if item.already_there:
                self.result.unchanged.append(item)
                self._done_items += 1
                continue
            try:
                self.result.exported.append(self._export_item(item))
            except _Cancelled:
                self.result.cancelled = True
                break
            except _FileFailed as failure:
                log.warning("export of %s failed: %s", failure.planned.source, failure.reason)
                self.result.failures.append(
                    ExportFailure(
                        item.photo.record.id,
                        failure.planned.source,
                        failure.planned.destination,
                        failure.reason,
                    )
                )
            self._done_items += 1
            self._report("")
        return self.result


def _embed_into(copier: Copier, item: PlanItem, planned: PlannedFile, partial: Path) -> None:
    """Our verified copy (still under its temporary name) receives the photo's XMP inside, losslessly."""
    packet = copier.xmp_packets.get(item.photo.record.id)
    if packet is None or planned.role not in (ROLE_PHOTO, ROLE_PAIR) or not can_embed(planned.destination):
        return
    try:
        embed_xmp(partial, planned.source, packet, suffix=planned.destination.suffix)
    except EmbedError as exc:
        log.info("%s", exc.message)
        copier.result.notes.append(f"{planned.destination.name}: XMP not embedded ({exc.message})")
        return
    copier.result.embedded += 1


def _make_dirs(folder: Path) -> list[Path]:
    """``mkdir -p`` that returns the folders it created (so a failed group can remove them again)."""
    missing: list[Path] = []
    current = folder
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    created: list[Path] = []
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            if not path.is_dir():
                raise
            continue
        created.append(path)
    return created


def _silently(action: Callable[[Path], None], path: Path) -> None:
    with contextlib.suppress(OSError):
        action(path)


def execute_plan(
    plan: ExportPlan,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressCallback | None = None,
    verify: bool = True,
    fsync: bool = True,
    xmp_packets: Mapping[int, bytes] | None = None,
) -> ExportResult:
    """Run ``plan``; see ``Copier``. Raises ExportError only when DEST itself cannot be created."""
    copier = Copier(plan, cancel=cancel, progress=progress, verify=verify, fsync=fsync, xmp_packets=xmp_packets)
    return copier.run()
