"""A real ``MainWindow`` (offscreen) on a large catalog, driven the way a user browses and culls it.

Used by ``bench/bench_gui.py --grid``. Every step is timed from its trigger to the grid repainted with the new
answer, while a 5 ms ``QTimer`` heartbeat on the GUI thread records the longest gap between its ticks: the
longest time the GUI thread was busy and could not react (the "stall"). The SQL a view change runs is timed
on its own too (``run_view_query`` on the bench's thread, the same query), so slow SQL and a slow GUI thread
are told apart. A bare ``QListView`` over a C++ string model with the same layout settings is the reference
for the scroll-bar jumps.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HEARTBEAT_MS = 5
TYPED = "horizon"  # 7 keys, typed 120 ms apart
KEY_GAP_S = 0.120
STALL_TARGET_MS = 50.0  # issue 14: the GUI thread is never blocked for longer


def count(model: Any) -> int:
    """Rows shown (also on the model before issue 14, which had no ``count``)."""
    return int(model.count()) if hasattr(model, "count") else int(model.rowCount())


def id_slice(model: Any, start: int, stop: int) -> list[int]:
    return list(model.id_list().slice(start, stop)) if hasattr(model, "id_list") else list(model.ids()[start:stop])


def rss_mb(field: str = "VmRSS") -> float:
    """Resident memory of this process (Linux /proc), in MB; ``RssAnon``: heap only, ``RssFile``: mapped
    files (SQLite's mmap of the catalog, shared libraries)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def memory_breakdown(window: Any) -> dict[str, Any]:
    """RSS by mapping and by allocator (``bench/memory_report.py``, beside this script)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from memory_report import breakdown

    return breakdown(window)


def collections_as_the_window_runs() -> Any:
    """Garbage collections as ``gui.app.run`` sets them (``gui.gc_pauses``); returns the heap freezer to start
    with the window, None on trees without it."""
    try:
        from artimuse_desktop.gui.gc_pauses import HeapFreezer, calm_collections
    except ImportError:
        return None
    calm_collections()
    return HeapFreezer


def settle_memory() -> None:
    """Once the window is idle, until its last task has given malloc's free memory back (``gui.tasks``: it
    trims just after delivering its answer); at once on trees that do not trim."""
    try:
        from artimuse_desktop.gui.tasks import FREE_AFTER_BIG_TASKS
    except ImportError:
        return
    pump(FREE_AFTER_BIG_TASKS.settled, timeout=60)


def stall_trace(heart: Heartbeat) -> Any:
    """With ``ARTIMUSE_STALL_TRACE`` set: where the GUI thread was in each long stall (``bench/stall_trace.py``)."""
    import os
    import sys

    if not os.environ.get("ARTIMUSE_STALL_TRACE"):
        return None
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from stall_trace import StallTrace

    return StallTrace(lambda: heart.last)


class CollectionLog:
    """Python's garbage collections over 10 ms in this process (any thread): each holds the GIL throughout, so
    it stalls the GUI thread too. Kept as (ms, generation, objects collected, thread name)."""

    def __init__(self) -> None:
        import gc

        self.long: list[tuple[float, int, int, str]] = []
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        import threading

        if phase == "start":
            self._started = time.perf_counter()
            return
        ms = (time.perf_counter() - self._started) * 1000
        if ms > 10:
            self.long.append((round(ms, 1), info["generation"], info["collected"], threading.current_thread().name))

    def stop(self) -> list[tuple[float, int, int, str]]:
        import gc

        gc.callbacks.remove(self._callback)
        return sorted(self.long, reverse=True)


class Heartbeat:
    """Ticks every ``HEARTBEAT_MS`` on the GUI thread; ``longest_ms`` is the longest gap minus the period."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(HEARTBEAT_MS)
        self._timer.timeout.connect(self._tick)
        self._last = time.perf_counter()
        self.longest = 0.0
        self.session_longest = 0.0  # over many steps: ``reset`` (each step's) leaves it, ``reset_session`` not
        self.session_over: list[float] = []  # the session's gaps over the target, in ms (minus the period)
        self._timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = now - self._last
        self.longest = max(self.longest, gap)
        self.session_longest = max(self.session_longest, gap)
        if gap * 1000 - HEARTBEAT_MS > STALL_TARGET_MS:
            self.session_over.append(round(gap * 1000 - HEARTBEAT_MS, 1))
        self._last = now

    def reset_session(self) -> None:
        self.reset()
        self.session_longest = 0.0
        self.session_over = []

    def session_longest_ms(self) -> float:
        self._tick()
        return max(0.0, self.session_longest * 1000 - HEARTBEAT_MS)

    def reset(self) -> None:
        self._last = time.perf_counter()
        self.longest = 0.0

    @property
    def last(self) -> float:
        return self._last

    def longest_ms(self) -> float:
        self._tick()  # a stall still going on counts too
        return max(0.0, self.longest * 1000 - HEARTBEAT_MS)

    def stop(self) -> None:
        self._timer.stop()


def pump(until: Callable[[], bool], timeout: float = 120.0) -> None:
    """Run the event loop until ``until()`` holds (the heartbeat keeps ticking meanwhile). It sleeps until the
    next event, as the window's own loop does (the heartbeat wakes it every 5 ms at least): a loop that polled
    without waiting would keep the GUI thread busy and fight the workers for the GIL and the cores."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    wait = QEventLoop.ProcessEventsFlag.WaitForMoreEvents
    deadline = time.perf_counter() + timeout
    while not until():
        if time.perf_counter() > deadline:
            raise TimeoutError("the window did not answer in time")
        QApplication.processEvents(wait)


def pump_for(seconds: float) -> None:
    end = time.perf_counter() + seconds
    pump(lambda: time.perf_counter() >= end)


class Session:
    """One window on one catalog; each ``step`` returns {ms, stall_ms[, sql_ms]}."""

    def __init__(self, catalog_path: Path, tmp: Path) -> None:
        from artimuse_desktop.catalog.db import open_catalog
        from artimuse_desktop.gui.main_window import MainWindow
        from artimuse_desktop.settings import Settings

        try:  # the catalog and the process as ``gui.app.run`` sets them up (trees since issue 14's memory work)
            from artimuse_desktop.gui.app import open_window_catalog
            from artimuse_desktop.gui.tasks import limit_malloc_arenas
        except ImportError:  # an older tree (``--before``): as it opened the catalog then
            self.catalog = open_catalog(catalog_path)
        else:
            limit_malloc_arenas()
            self.catalog = open_window_catalog(catalog_path)
            with contextlib.suppress(ImportError):  # trees since the GIL switch interval
                from artimuse_desktop.gui.tasks import share_the_gil_quickly

                share_the_gil_quickly()
            with contextlib.suppress(ImportError):  # trees since the workers run below the GUI thread
                from artimuse_desktop.gui.tasks import run_workers_below_the_gui

                run_workers_below_the_gui()
        freezer = collections_as_the_window_runs()
        self.sql_catalog = open_catalog(catalog_path)
        self.heart = Heartbeat()
        self.trace = stall_trace(self.heart)
        self.reloads = 0
        started = time.perf_counter()
        self.window = MainWindow(self.catalog, Settings(score_after_indexing=False), settings_path=tmp / "s.json")
        self.window.view_reloaded.connect(self._reloaded)
        if freezer is not None:
            freezer(self.window.is_idle, self.window)
        self.window.resize(1280, 800)
        self.window.show()
        # the constructor and show() block the GUI thread before any view is asked: startup, told apart
        self.construct_stall_ms = self.heart.longest_ms()
        self.heart.reset()
        pump(lambda: self.reloads > 0 and self.view_answered())
        self.window.grid.viewport().repaint()
        self.first_view_ms = (time.perf_counter() - started) * 1000
        self.first_view_whole_ms, _ = self.settle(started)
        self.stall_after_show_ms = self.heart.longest_ms()
        self.first_view_stall_ms = max(self.construct_stall_ms, self.stall_after_show_ms)
        # the bursts and duplicate searches go on after the view is in: the user may browse meanwhile
        self.heart.reset()
        started = time.perf_counter()
        pump(self.window.is_idle, timeout=900)
        self.background_ms = (time.perf_counter() - started) * 1000
        self.background_stall_ms = self.heart.longest_ms()
        settle_memory()
        self.rss_start_mb = rss_mb()
        self.rss_start_anon_mb = rss_mb("RssAnon")
        self.memory_start = memory_breakdown(self.window)

    def _reloaded(self) -> None:
        self.reloads += 1

    def close(self) -> None:
        self.heart.stop()
        self.window.close()
        self.window.deleteLater()
        pump_for(0.05)
        self.catalog.close()
        self.sql_catalog.close()

    # ------------------------------------------------------------------ steps

    def sql_ms(self) -> float:
        """The current view's query (ids, counts, histogram) on a connection of its own."""
        from artimuse_desktop.catalog.collections import ViewQuery, run_view_query

        w = self.window
        kind, value = w.collections.selected()
        query = ViewQuery(
            kind, value, w.filter_bar.photo_filter(), w.filter_bar.sort_spec(), w.collapse_action.isChecked()
        )
        with self.bench_work():
            started = time.perf_counter()
            run_view_query(self.sql_catalog, query)
            elapsed = (time.perf_counter() - started) * 1000
            self.sql_catalog.engine.dispose()  # its page cache must not count in the window's memory
        return elapsed

    def bench_work(self) -> Any:
        """The bench's own work on the GUI thread: not the window's stall (the heartbeat resets after it)."""
        import contextlib

        return self.trace.paused() if self.trace is not None else contextlib.nullcontext()

    def view_answered(self) -> bool:
        """No view question pending (background work the view does not wait for, bursts and duplicate
        groups, may still run: it is not what the user waits for)."""
        w = self.window
        return not (w.tasks.pending("view") or w.filter_bar.pending() or w.tasks.pending("grid-page"))

    def settle(self, started: float) -> tuple[float, float]:
        """After the grid showed the view's head: ms from ``started`` until the whole id list and the
        histogram are in too (both 0 on trees that answer a view in one piece)."""
        tasks = self.window.tasks
        whole: float | None = None
        binned: float | None = None

        def done() -> bool:
            nonlocal whole, binned
            now = (time.perf_counter() - started) * 1000
            if whole is None and not tasks.pending("view-full"):
                whole = now
            if binned is None and not tasks.pending("histogram"):
                binned = now
            return whole is not None and binned is not None

        pump(done)
        assert whole is not None and binned is not None
        return whole, binned

    def view_change(self, trigger: Callable[[], object], *, sql: bool = True) -> dict[str, float]:
        """``ms``: trigger to the grid showing the new view (its first screens and row count); ``whole_ms``
        and ``histogram_ms``: to the whole id list and the histogram; ``stall_ms``: over all of it."""
        pump(self.view_answered)
        self.settle(time.perf_counter())
        before = self.reloads
        self.heart.reset()
        started = time.perf_counter()
        trigger()
        pump(lambda: self.reloads > before and self.view_answered())
        self.window.grid.viewport().repaint()
        result = {"ms": (time.perf_counter() - started) * 1000}
        result["whole_ms"], result["histogram_ms"] = self.settle(started)
        result["stall_ms"] = self.heart.longest_ms()
        if sql:
            result["sql_ms"] = self.sql_ms()
        return result

    def typing(self) -> dict[str, float]:
        """7 keys 120 ms apart into the search box; time from the last key to the grid (includes the search box's
        pause, ``filter_bar.TYPING_PAUSE_MS``, that waits for the typing to stop)."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        search = self.window.filter_bar.search
        search.clear()
        self.window.filter_bar.apply_now()
        pump(self.view_answered)
        pump_for(0.1)
        self.heart.reset()
        before = self.reloads
        for char in TYPED:
            QTest.keyClicks(search, char, Qt.KeyboardModifier.NoModifier)
            last = time.perf_counter()
            pump_for(KEY_GAP_S)
        pump(lambda: self.reloads > before and self.view_answered())
        self.window.grid.viewport().repaint()
        result = {"ms": (time.perf_counter() - last) * 1000, "stall_ms": self.heart.longest_ms()}
        result["sql_ms"] = self.sql_ms()
        search.clear()
        self.window.filter_bar.apply_now()
        pump(lambda: self.reloads > before + 1 and self.view_answered())
        return result

    def scroll_jumps(self, jumps: int = 60, seed: int = 3) -> dict[str, float]:
        return jump_through(self.window.grid, jumps, seed, self.heart)

    def selection(self) -> dict[str, float]:
        """Click-select one photo, move the current photo, select everything, then one again (each O(1)?)."""
        from PySide6.QtCore import QItemSelectionModel

        grid, model = self.window.grid, self.window.model
        out: dict[str, float] = {}
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("select one", lambda: grid.select_id(model.id_at(count(model) // 2) or 0)),
            ("current → next", lambda: grid.move_current(1)),
            (
                "setCurrentIndex far",
                lambda: grid.selectionModel().setCurrentIndex(
                    model.index(count(model) - 3, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                ),
            ),
            ("select all", grid.selectAll),
            ("selected ids (all)", grid.selected_ids),
            ("select one again", lambda: grid.select_id(model.id_at(7) or 0)),
        ]
        self.heart.reset()
        for name, step in steps:
            started = time.perf_counter()
            step()
            grid.viewport().repaint()
            out[name] = (time.perf_counter() - started) * 1000
        out["stall_ms"] = self.heart.longest_ms()
        return out

    def culling_round(self, rng: random.Random) -> None:
        """One minute of an hour's work: browse, flag, rate, select a run, re-sort, filter, scroll."""
        w = self.window
        grid = w.grid
        for _ in range(5):
            grid.move_current(1)
            w.culling.set_flag(rng.choice((1, -1, 0)))
            pump(lambda: not w.culling.busy())
        start = rng.randrange(max(1, count(w.model) - 60))
        grid.select_ids(id_slice(w.model, start, start + 50), w.model.id_at(start))
        w.culling.set_rating(rng.randint(0, 5))
        pump(lambda: not w.culling.busy())
        jump_through(grid, 5, rng.randrange(1000), None)
        keys = [
            k
            for k in ("filename", "score", "captured_at", "attr:Composition & Design")
            if k != w.filter_bar.sort_spec().key
        ]
        key = rng.choice(keys)
        self.view_change(lambda: w.filter_bar.set_sort(key, rng.random() < 0.5), sql=False)
        combo = w.filter_bar.flag_combo
        flag = rng.choice([i for i in range(combo.count()) if i != combo.currentIndex()])
        self.view_change(lambda: combo.setCurrentIndex(flag), sql=False)


def jump_through(grid: Any, jumps: int, seed: int, heart: Heartbeat | None) -> dict[str, float]:
    """Set the scroll bar to ``jumps`` random positions, repainting each (as dragging the bar does)."""
    from PySide6.QtWidgets import QApplication

    rng = random.Random(seed)
    bar = grid.verticalScrollBar()
    if heart is not None:
        heart.reset()
    started = time.perf_counter()
    for _ in range(jumps):
        bar.setValue(rng.randint(0, max(0, bar.maximum())))
        grid.viewport().repaint()
        QApplication.processEvents()
    result = {"ms": (time.perf_counter() - started) * 1000}
    if heart is not None:
        result["stall_ms"] = heart.longest_ms()
    return result


def bare_listview_jumps(rows: int, jumps: int = 60) -> dict[str, float]:
    """The reference: a plain QListView over a C++ model of ``rows`` empty strings, same layout settings."""
    from PySide6.QtCore import QSize, QStringListModel
    from PySide6.QtWidgets import QListView

    model = QStringListModel([""] * rows)
    view = QListView()
    view.setViewMode(QListView.ViewMode.ListMode)
    view.setFlow(QListView.Flow.LeftToRight)
    view.setWrapping(True)
    view.setUniformItemSizes(True)
    view.setGridSize(QSize(206, 214))
    view.resize(860, 700)
    view.setModel(model)
    view.show()
    pump_for(0.05)
    started = time.perf_counter()
    view.scrollTo(model.index(rows - 1, 0))
    layout_ms = (time.perf_counter() - started) * 1000
    result = jump_through(view, jumps, 3, None)
    result["layout_ms"] = layout_ms
    view.close()
    view.deleteLater()
    return result


def run_session(catalog_path: Path, tmp: Path, *, rounds: int = 30, profile: Path | None = None) -> dict[str, Any]:
    """Everything the issue measures, on one catalog; ``profile`` writes cProfile stats of the whole session."""
    import cProfile

    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    collections_log = CollectionLog()
    s = Session(catalog_path, tmp)
    w = s.window
    out: dict[str, Any] = {
        "photos": count(w.model),
        "first view": {
            "ms": s.first_view_ms,
            "whole_ms": s.first_view_whole_ms,
            "stall_ms": s.first_view_stall_ms,
            "construct_stall_ms": s.construct_stall_ms,
            "stall_after_show_ms": s.stall_after_show_ms,
        },
        "background searches": {"ms": s.background_ms, "stall_ms": s.background_stall_ms},
        "rss_start_mb": s.rss_start_mb,
        "rss_start_anon_mb": s.rss_start_anon_mb,
    }
    out["sort change"] = s.view_change(lambda: w.filter_bar.set_sort("filename", False))
    out["sort back"] = s.view_change(lambda: w.filter_bar.set_sort("captured_at", False))
    out["attribute sort"] = s.view_change(lambda: w.filter_bar.set_sort("attr:Composition & Design", True))
    out["filter picks"] = s.view_change(lambda: w.filter_bar.flag_combo.setCurrentIndex(1))
    out["filter off"] = s.view_change(lambda: w.filter_bar.flag_combo.setCurrentIndex(0))
    out["histogram range"] = s.view_change(lambda: w.filter_bar.set_score_range(60.0, None))
    out["histogram off"] = s.view_change(lambda: w.filter_bar.set_score_range(None, None))

    def search() -> None:
        w.filter_bar.search.setText("horizon light")
        w.filter_bar.apply_now()

    out["search"] = s.view_change(search)

    def search_off() -> None:
        w.filter_bar.search.clear()
        w.filter_bar.apply_now()

    out["search off"] = s.view_change(search_off)
    out["collection picks"] = s.view_change(lambda: w.collections.select("picks", None))
    out["collection all"] = s.view_change(lambda: w.collections.select("all", None))
    out["typing 7 keys"] = s.typing()
    out["60 scroll jumps"] = s.scroll_jumps()
    out["selection"] = s.selection()
    rng = random.Random(11)
    s.heart.reset_session()
    for _ in range(rounds):
        s.culling_round(rng)
    out["session stall_ms"] = s.heart.session_longest_ms()  # over all the rounds (each view change resets its own)
    out["session stalls over 50 ms"] = sorted(s.heart.session_over, reverse=True)
    pump(w.is_idle, timeout=900)
    settle_memory()
    out["rss_after_mb"] = rss_mb()
    out["rss_after_anon_mb"] = rss_mb("RssAnon")
    out["memory start"] = s.memory_start
    out["memory after"] = memory_breakdown(w)
    collections = collections_log.stop()
    out["collections over 10 ms"] = {"count": len(collections), "longest": collections[:10]}
    if s.trace is not None:
        out["stall trace"] = s.trace.stop()
    s.close()
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    out["bare QListView 60 jumps"] = bare_listview_jumps(out["photos"])
    return out


def main(argv: list[str] | None = None) -> int:
    """``python bench/grid_session.py CATALOG OUT.json [--rounds N] [--profile FILE]``: one session in a fresh
    process (its RSS is this window's alone); ``PYTHONPATH`` chooses which source tree is measured.
    ``ARTIMUSE_GRID_PROFILE=DIR`` (through ``bench_gui.py --grid`` too) writes the GUI thread's cProfile stats
    of each session to DIR/<out>.prof."""
    import argparse
    import json
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser()
    parser.add_argument("catalog", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--profile", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.profile is None and os.environ.get("ARTIMUSE_GRID_PROFILE"):  # a folder: one file per session
        args.profile = Path(os.environ["ARTIMUSE_GRID_PROFILE"]) / f"{args.out.stem}.prof"
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="artimuse-grid-") as tmp:
        os.environ.setdefault("ARTIMUSE_HOME", str(Path(tmp) / "home"))
        result = run_session(args.catalog, Path(tmp), rounds=args.rounds, profile=args.profile)
    args.out.write_text(json.dumps(result, indent=1))
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
