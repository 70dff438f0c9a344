"""Where this process's resident memory is: /proc/self/smaps grouped by mapping, plus what glibc malloc, SQLite
and CPython say they hold (``bench/grid_session.py`` adds it to its JSON; issue 14's RSS target).

Mappings are grouped as: the catalog file (SQLite's ``mmap_size`` window and the WAL index), Qt/PySide6
libraries, other files (Python, other libraries, fonts), the main heap (``[heap]``), thread stacks (8 MiB
above a guard page), glibc's per-thread malloc arenas (anonymous mappings inside 64 MiB-aligned heaps) and other
anonymous memory (CPython's object arenas, see ``pymalloc``, and big ``malloc`` blocks served by ``mmap``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Any

ARENA = 64 * 1024 * 1024  # glibc's HEAP_MAX_SIZE on 64-bit: a thread arena's heaps are aligned to it
STACK_KB = 8192


def _group(path: str, start: int, size_kb: int, after_guard: bool) -> str:
    if ".sqlite" in path:
        return "catalog file"
    if path.startswith("/"):
        lowered = path.lower()
        if "pyside6" in lowered or "shiboken" in lowered or "/qt" in lowered or "libqt" in lowered:
            return "Qt/PySide6 files"
        return "other files"
    if path == "[heap]":
        return "main heap"
    if path.startswith("["):
        return "other (stack, vdso)"
    if after_guard and size_kb in (STACK_KB, STACK_KB + 4):  # a thread's stack sits above its guard page
        return "thread stacks"
    if start % ARENA == 0:  # a thread arena's heap: its read-write part starts on the 64 MiB boundary
        return "malloc arenas"
    return "other anon"


def smaps_groups() -> dict[str, float]:
    """Resident MB per group (``Rss`` of each mapping; an arena's unused tail is not resident)."""
    groups: dict[str, float] = {}
    current: tuple[str, int, int, bool] | None = None
    guard_end = -1  # where the last inaccessible mapping ended
    try:
        with open("/proc/self/smaps", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                head = line.split(maxsplit=5)
                if "-" in head[0] and not head[0].endswith(":"):
                    start, end = (int(part, 16) for part in head[0].split("-"))
                    path = head[5].strip() if len(head) > 5 else ""
                    current = (path, start, (end - start) // 1024, start == guard_end)
                    if head[1] == "---p":
                        guard_end = end
                elif head[0] == "Rss:" and current is not None:
                    name = _group(*current)
                    groups[name] = groups.get(name, 0.0) + int(head[1]) / 1024
    except OSError:
        return {}
    return {name: round(mb, 1) for name, mb in sorted(groups.items(), key=lambda item: -item[1])}


def pymalloc() -> dict[str, float]:
    """CPython's small-object allocator (objects up to 512 bytes, in 1 MiB arenas it frees only when empty):
    MB of arenas held and MB of live blocks in them (``sys._debugmallocstats``, which writes to fd 2)."""
    import os
    import re

    try:
        read, write = os.pipe()
        saved = os.dup(2)
        try:
            os.dup2(write, 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(write)
        with os.fdopen(read, "rb") as handle:
            report = handle.read().decode("ascii", "replace")
    except (OSError, AttributeError):
        return {}
    arenas = re.search(r"arenas allocated current\s+=\s+([\d,]+)", report)
    live = re.search(r"bytes in allocated blocks\s+=\s+([\d,]+)", report)
    if arenas is None or live is None:
        return {}
    return {
        "arenas MB": round(int(arenas.group(1).replace(",", "")) * 1.048576, 1),
        "live MB": round(int(live.group(1).replace(",", "")) / 1e6, 1),
    }


_ROLLUP = {"Rss", "Anonymous", "Shared_Clean", "Private_Clean", "Private_Dirty"}
_MALLINFO2 = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")


def _rollup() -> dict[str, float]:
    out: dict[str, float] = {}
    try:
        with open("/proc/self/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                parts = line.split()
                name = parts[0].rstrip(":")
                if len(parts) == 3 and parts[2] == "kB" and name in _ROLLUP:
                    out[name] = round(int(parts[1]) / 1024, 1)
    except OSError:
        pass
    return out


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in _MALLINFO2]


def _malloc() -> dict[str, float]:
    """glibc's view: bytes in use by malloc, bytes free inside its heaps (kept, not returned), mmap'd blocks."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):
        return {}
    mb = 1024 * 1024
    return {
        "in use MB": round((info.uordblks + info.hblkhd) / mb, 1),
        "free in heaps MB": round(info.fordblks / mb, 1),
        "mmapped blocks MB": round(info.hblkhd / mb, 1),
    }


def _sqlite_used() -> float | None:
    """SQLite's own heap (page caches, statements) in MB, all connections of the process."""
    try:
        lib = ctypes.CDLL("libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        return round(lib.sqlite3_memory_used() / 1024 / 1024, 1)
    except (OSError, AttributeError):
        return None


def _threads() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def breakdown(window: Any = None) -> dict[str, Any]:
    """Everything above in one dict; ``window`` (a ``MainWindow``) adds its pixmap caches' byte counts."""
    out: dict[str, Any] = {
        "rollup MB": _rollup(),
        "by mapping MB": smaps_groups(),
        "malloc": _malloc(),
        "sqlite heap MB": _sqlite_used(),
        "python blocks": sys.getallocatedblocks(),
        "pymalloc": pymalloc(),
        "threads": _threads(),
    }
    if window is not None:
        caches: dict[str, float] = {}
        for name, owner, attr in (
            ("grid pixmaps", getattr(window, "model", None), "_pixmaps"),
            ("previews", getattr(window, "images", None), "_previews"),
            ("full images", getattr(window, "images", None), "_full"),
        ):
            lru = getattr(owner, attr, None)
            if lru is not None:
                caches[name] = round(getattr(lru, "_bytes", 0) / 1024 / 1024, 1)
        out["pixmap caches MB"] = caches
        trimmer = getattr(sys.modules.get("artimuse_desktop.gui.tasks"), "FREE_AFTER_BIG_TASKS", None)
        if trimmer is not None:
            out["malloc trims"] = {"count": trimmer.trims, "longest ms": round(trimmer.longest_ms, 1)}
        engine = getattr(getattr(window, "catalog", None), "engine", None)
        pool = getattr(engine, "pool", None)
        if pool is not None and hasattr(pool, "checkedin"):
            out["pooled connections"] = int(pool.checkedin()) + int(pool.checkedout())
    return out
