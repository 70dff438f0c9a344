"""Walking library folders: every photo file, nothing else, and never a hang or a crash on a strange tree.

* Iterative (an explicit stack), so a 10 000-level tree cannot hit Python's recursion limit.
* Symbolic links are followed, but every directory is identified by ``(st_dev, st_ino)`` and visited once, so
  a link back to a parent (a loop) or two roots that overlap are harmless.
* Hidden files and folders, OS junk (``.DS_Store``, ``._*``, ``Thumbs.db``, ``desktop.ini``, ``@eaDir``...)
  and sidecars (``.xmp``, ``.aae``, ``.thm``, ``.pp3``, ``.dop``, ``.on1``, ``.cos``) are skipped.
* Named pipes, sockets and devices are reported as skipped with a reason and never opened: opening a FIFO
  would block forever.
* Folders that cannot be listed are reported with the reason; the indexer leaves the photos it knew below them
  alone instead of calling them missing.
* Names are ``str`` from ``os.fsdecode`` (invalid UTF-8 survives as surrogate escapes and round-trips to the
  original bytes, which is what the catalog stores).

Photos are recognised by extension here (cheap: no file is opened); a file without any extension is sniffed
for image content. The decoder then identifies the real format from the bytes.

**Folder stamps** (``stamps``, kept by ``folder_stamps`` between index runs) make a rescan cost what changed: a
folder whose (mtime, ctime, inode) equal its stamp from the last complete scan is neither listed nor are its
files stat-ed; its stamp supplies its subfolders (each still stat-ed and visited, so a change deeper down is
found), its photo count and its ignored and skipped entries. This is exact for the *set of names*: adding,
removing or renaming an entry (a new, moved or deleted photo, a new subfolder) always changes the folder's
mtime. A stamp is only trusted when the folder had not changed for ``RACY_SECONDS`` before it was listed, so a
change in the same timestamp tick as the listing (1-2 s on FAT/HFS+) cannot hide. What a stamp cannot see is a
file rewritten *in place* under the same name, or a linked file's target changing (its folder's mtime stays):
that is noticed in every folder that is listed, and everywhere by a full scan (``folder_stamps``: at least
once a day, or on request).
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from artimuse_desktop.imaging import formats

JUNK_NAMES: frozenset[str] = frozenset(
    {
        ".ds_store", "thumbs.db", "ehthumbs.db", "desktop.ini", "@eadir", "$recycle.bin",
        "system volume information", ".spotlight-v100", ".trashes", ".fseventsd", ".appledouble",
        "#recycle", "#snapshot", "lost+found",
    }
)  # fmt: skip
SIDECAR_EXTENSIONS: frozenset[str] = frozenset({".xmp", ".aae", ".thm", ".pp3", ".dop", ".on1", ".cos"})

_SPECIAL_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISFIFO, "named pipe (FIFO), not a photo; never opened"),
    (stat.S_ISSOCK, "socket, not a photo; never opened"),
    (stat.S_ISCHR, "character device, not a photo; never opened"),
    (stat.S_ISBLK, "block device, not a photo; never opened"),
)


class _Cancel(Protocol):
    @property
    def cancelled(self) -> bool: ...


class FileEntry(NamedTuple):
    """A photo candidate: absolute path (str, possibly with surrogate escapes), size, mtime, and its root.

    A tuple, not a frozen dataclass: a scan makes one per photo, and at 50,000 photos the frozen dataclass's
    ``__init__`` alone cost a tenth of a second.
    """

    path: str
    size: int
    mtime: float
    root: str


class FolderStamp(NamedTuple):
    """What a folder's listing found, and the folder's identity when it was listed (see the module notes)."""

    mtime_ns: int
    ctime_ns: int  # cannot be set back by a restore that sets mtime (cp -a, rsync -a): any utime bumps it
    inode: int
    trusted: bool  # False: it changed within RACY_SECONDS of its listing, so list it again next time
    photos: int
    ignored: int
    subfolders: tuple[str, ...]  # names of the folders entered below it
    skipped: tuple[tuple[str, str], ...]  # (name, reason)

    def matches(self, st: os.stat_result) -> bool:
        identity = (self.mtime_ns, self.ctime_ns, self.inode)
        return self.trusted and identity == (st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


RACY_SECONDS = 3  # FAT keeps mtimes to 2 s: a stamp younger than that could hide a change made right after


@dataclass
class ScanResult:
    roots: list[str]
    files: list[FileEntry] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason): special files, broken links
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (folder, reason)
    ignored: int = 0  # files that are not photos (videos, documents, sidecars, junk, hidden)
    folders: int = 0
    cancelled: bool = False
    stamps: dict[str, FolderStamp] = field(default_factory=dict)  # every folder listed or trusted, by path
    unchanged_folders: set[str] = field(default_factory=set)  # trusted stamps: neither listed nor stat-ed
    unchanged_photos: int = 0  # the photos in those folders (not in ``files``)

    def is_under_unreadable(self, path: str) -> bool:
        """True when ``path`` lies in a folder the scan could not list (its fate is unknown)."""
        return any(path == folder or path.startswith(folder.rstrip(os.sep) + os.sep) for folder, _ in self.unreadable)


ScanProgress = Callable[[int, int, str], None]
"""Called with (folders scanned, photos found, current folder) a few times a second."""


def is_junk(name: str) -> bool:
    lowered = name.lower()
    return lowered in JUNK_NAMES or name.startswith("._")


def is_hidden(name: str, st: os.stat_result | None = None) -> bool:
    if name.startswith("."):
        return True
    attributes = getattr(st, "st_file_attributes", 0) if st is not None else 0
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "not found"
    return exc.strerror or str(exc)


def _special_reason(mode: int) -> str | None:
    for test, reason in _SPECIAL_KINDS:
        if test(mode):
            return reason
    return None


def _sniffs_as_image(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(formats.HEAD_BYTES)
    except OSError:
        return False
    return bool(head) and formats.sniff(head, path) in formats.SUPPORTED_FORMATS


_HAS_FILE_ATTRIBUTES = hasattr(os.stat_result, "st_file_attributes")  # Windows: the hidden attribute


def _is_candidate_name(name: str) -> bool | None:
    """True: a photo by name; False: not a photo; None: no extension, sniff the content.

    (``name`` never starts with a dot here: hidden names are skipped first, so the last dot starts the
    extension, as ``os.path.splitext`` would say, at a fraction of its cost per file.)
    """
    _, dot, tail = name.rpartition(".")
    if not dot:
        return None
    ext = "." + tail.lower()
    if ext in SIDECAR_EXTENSIONS:
        return False
    return ext in formats.IMAGE_EXTENSIONS


def normalize_root(root: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> str:
    return os.path.abspath(os.fsdecode(root))


def scan(
    roots: Iterable[str | bytes | os.PathLike[str] | os.PathLike[bytes]],
    *,
    cancel: _Cancel | None = None,
    progress: ScanProgress | None = None,
    exclude: Iterable[str | os.PathLike[str]] = (),
    stamps: Mapping[str, FolderStamp] | None = None,
) -> ScanResult:
    """Walk ``roots`` (folders, or single files named explicitly) and list the photo files under them.

    ``exclude``: folders never entered (the app's own thumbnail cache, should a library contain it).
    ``stamps``: the last complete scan's folder stamps (by folder path): folders that match are not listed,
    their photos are counted in ``unchanged_photos`` instead of listed in ``files``. Ignored when a single file
    is among the roots (it could lie in such a folder and be counted twice).
    """
    root_list = list(dict.fromkeys(normalize_root(root) for root in roots))
    result = ScanResult(roots=root_list)
    visited: set[tuple[int, int]] = set()
    for folder in exclude:  # marked as visited: never entered
        with contextlib.suppress(OSError):
            st = os.stat(folder)
            visited.add((st.st_dev, st.st_ino))
    seen_files: set[str] = set()
    last_report = 0.0
    if stamps and any(os.path.isfile(root) for root in root_list):
        stamps = None

    for root in root_list:
        try:
            st = os.stat(root)
        except OSError as exc:
            result.unreadable.append((root, _reason(exc)))
            continue
        if stat.S_ISREG(st.st_mode):  # a file named on the command line: content decides, whatever its name
            if root not in seen_files:
                seen_files.add(root)
                result.files.append(FileEntry(root, st.st_size, st.st_mtime, os.path.dirname(root)))
            continue
        if not stat.S_ISDIR(st.st_mode):
            result.skipped.append((root, _special_reason(st.st_mode) or "not a regular file or folder"))
            continue
        if (st.st_dev, st.st_ino) in visited:
            continue
        visited.add((st.st_dev, st.st_ino))
        stack: list[tuple[str, os.stat_result]] = [(root, st)]
        while stack:
            if cancel is not None and cancel.cancelled:
                result.cancelled = True
                return result
            folder, folder_st = stack.pop()
            result.folders += 1
            if progress is not None:
                now = time.monotonic()
                if now - last_report > 0.2:
                    last_report = now
                    progress(result.folders, len(result.files) + result.unchanged_photos, folder)
            stamp = stamps.get(folder) if stamps else None
            if stamp is not None and stamp.matches(folder_st):
                subfolders = _stamped_subfolders(folder, stamp, root, visited)
                if subfolders is not None:
                    _reuse(folder, stamp, result, subfolders)
                    stack.extend(reversed(subfolders))
                    continue
            subfolders = _list(folder, folder_st, root, result, visited, seen_files)
            stack.extend(reversed(subfolders))
    return result


def _list(
    folder: str,
    folder_st: os.stat_result,
    root: str,
    result: ScanResult,
    visited: set[tuple[int, int]],
    seen_files: set[str],
) -> list[tuple[str, os.stat_result]]:
    """List one folder (its photos join ``result.files``) and stamp it; returns the subfolders to visit."""
    listed_at = time.time_ns()
    try:
        with os.scandir(folder) as iterator:
            entries = sorted(iterator, key=lambda entry: entry.name)
    except OSError as exc:
        result.unreadable.append((folder, _reason(exc)))
        return []
    photos, ignored, skipped = len(result.files), result.ignored, len(result.skipped)
    subfolders: list[tuple[str, os.stat_result]] = []
    twice: list[str] = []
    for entry in entries:
        _visit(entry, root, result, visited, seen_files, subfolders, twice)
    result.stamps[folder] = FolderStamp(
        folder_st.st_mtime_ns,
        folder_st.st_ctime_ns,
        folder_st.st_ino,
        listed_at - folder_st.st_mtime_ns >= RACY_SECONDS * 1_000_000_000,
        len(result.files) - photos,
        result.ignored - ignored,
        tuple(sorted([os.path.basename(path) for path, _ in subfolders] + twice)),
        tuple((os.path.basename(path), reason) for path, reason in result.skipped[skipped:]),
    )
    return subfolders


def _stamped_subfolders(
    folder: str, stamp: FolderStamp, root: str, visited: set[tuple[int, int]]
) -> list[tuple[str, os.stat_result]] | None:
    """The stamp's subfolders, stat-ed (their own stamps need it); None when one is no longer a folder we
    would enter as it stands (a symbolic link retargeted, a loop now): then the folder is listed again."""
    found: list[tuple[str, os.stat_result]] = []
    keys: set[tuple[int, int]] = set()
    for name in stamp.subfolders:
        path = os.path.join(folder, name)
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = (st.st_dev, st.st_ino)
        if not stat.S_ISDIR(st.st_mode) or key in visited or key in keys:
            return None
        if _HAS_FILE_ATTRIBUTES and is_hidden(name, st):
            return None
        if os.path.islink(path) and _leads_back(path, root):
            return None
        keys.add(key)
        found.append((path, st))
    visited.update(keys)
    return found


def _reuse(folder: str, stamp: FolderStamp, result: ScanResult, subfolders: list[tuple[str, os.stat_result]]) -> None:
    """Count a folder that did not change as its stamp says."""
    result.stamps[folder] = stamp
    result.unchanged_folders.add(folder)
    result.unchanged_photos += stamp.photos
    result.ignored += stamp.ignored
    result.skipped += [(os.path.join(folder, name), reason) for name, reason in stamp.skipped]


def photo_entry(path: str, root: str) -> FileEntry | None:
    """A known photo's path looked at on its own, as a listing of its folder would (None: not a photo now)."""
    name = os.path.basename(path)
    if name.startswith(".") or name.lower() in JUNK_NAMES:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or (_HAS_FILE_ATTRIBUTES and is_hidden(name, st)):
        return None
    candidate = _is_candidate_name(name)
    if candidate is None:
        candidate = _sniffs_as_image(path)
    return FileEntry(path, st.st_size, st.st_mtime, root) if candidate else None


def _leads_back(link: str, root: str) -> bool:
    """A link to the root or one of its parents: following it would walk the root's siblings and loop."""
    try:
        target = os.path.realpath(link)
        real_root = os.path.realpath(root)
    except (OSError, ValueError):
        return False
    return real_root == target or real_root.startswith(target.rstrip(os.sep) + os.sep)


def _visit(
    entry: os.DirEntry[str],
    root: str,
    result: ScanResult,
    visited: set[tuple[int, int]],
    seen_files: set[str],
    subfolders: list[tuple[str, os.stat_result]],
    twice: list[str],
) -> None:
    """Count, skip or collect one entry: photos join ``result.files``, folders to enter ``subfolders``, and
    folders already entered by another way (overlapping roots) ``twice``: they still belong in the stamp."""
    name = entry.name
    if name.startswith(".") or name.lower() in JUNK_NAMES:  # hidden (``._*`` too) or junk: is_junk, is_hidden
        result.ignored += 1
        return
    path = entry.path
    try:
        is_link = entry.is_symlink()
    except OSError:
        is_link = False
    try:
        st = entry.stat(follow_symlinks=True)
    except FileNotFoundError:
        if is_link:
            result.skipped.append((path, "broken symbolic link"))
        return  # vanished while we looked
    except OSError as exc:
        # ELOOP (a link to itself), EACCES on a link target...
        result.skipped.append((path, f"cannot follow: {_reason(exc)}"))
        return
    mode = st.st_mode
    if _HAS_FILE_ATTRIBUTES and is_hidden(name, st):
        result.ignored += 1
        return
    if stat.S_ISDIR(mode):
        key = (st.st_dev, st.st_ino)
        if key in visited:
            if is_link:
                result.skipped.append((path, "symbolic link loop (leads to a folder already scanned)"))
            else:
                twice.append(name)
            return  # a symlink loop, or a folder reached twice
        if is_link and _leads_back(path, root):
            result.skipped.append((path, "symbolic link loop (points to a parent of the library folder)"))
            return
        visited.add(key)
        subfolders.append((path, st))
        return
    if not stat.S_ISREG(mode):
        result.skipped.append((path, _special_reason(mode) or "not a regular file"))
        return
    candidate = _is_candidate_name(name)
    if candidate is None:
        candidate = _sniffs_as_image(path)
    if not candidate:
        result.ignored += 1
        return
    if path in seen_files:
        return
    seen_files.add(path)
    result.files.append(FileEntry(path, st.st_size, st.st_mtime, root))
