"""SQL-only bench of the grid's view changes: what a view's head, pages, whole list and counts cost.

    python bench/bench_view_queries.py CATALOG [--runs 3] [--json out.json]

Times, on one catalog (e.g. the 300,000-photo one ``bench_gui.py --grid --catalog-dir`` keeps), for each view
the grid offers (sorts, filters, searches, and attribute and measure sorts under filters): the full ordered id
array, the first 600 ids alone, the view's head as the window asks it (``run_view_head``: the first 600 ids
and every count; and again with the collection's and the catalog's counts known, as after a filter change),
a page by offset 5,000 (rows painted before the whole list came), the count, and the score histogram. Each
figure is the median of ``--runs``, wall and CPU of this thread (``*_cpu``: the machine is shared, CPU time
tells the work apart from the waiting), with the load average beside them. Target at 300k: 150 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def views() -> list[tuple[str, Any, Any]]:
    from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec

    attr, attr_up = SortSpec("attr:Composition & Design", True), SortSpec("attr:Composition & Design")
    return [
        ("capture time", PhotoFilter(), SortSpec("captured_at")),
        ("capture time desc", PhotoFilter(), SortSpec("captured_at", True)),
        ("score desc", PhotoFilter(), SortSpec("score", True)),
        ("file name", PhotoFilter(), SortSpec("filename")),
        ("rating desc", PhotoFilter(), SortSpec("rating", True)),
        ("attribute desc", PhotoFilter(), attr),
        ("attribute asc", PhotoFilter(), attr_up),
        ("measure desc", PhotoFilter(), SortSpec("measure:sharpness", True)),
        ("picks", PhotoFilter(flags={1}), SortSpec("captured_at")),
        ("picks desc", PhotoFilter(flags={1}), SortSpec("captured_at", True)),
        ("unrated", PhotoFilter(flags={0}, max_rating=0), SortSpec("captured_at")),
        ("rating >= 3", PhotoFilter(min_rating=3), SortSpec("captured_at")),
        ("label red", PhotoFilter(color_labels={"red"}), SortSpec("captured_at")),
        ("score >= 60", PhotoFilter(min_score=60.0), SortSpec("captured_at")),
        ("search", PhotoFilter(search="horizon light"), SortSpec("captured_at")),
        ("search, score desc", PhotoFilter(search="horizon light"), SortSpec("score", True)),
        # the grid session's filter steps run under the attribute sort it chose before them
        ("picks, attribute desc", PhotoFilter(flags={1}), attr),
        ("score >= 60, attribute desc", PhotoFilter(min_score=60.0), attr),
        ("unrated, attribute asc", PhotoFilter(flags={0}, max_rating=0), attr_up),
        ("label red, attribute desc", PhotoFilter(color_labels={"red"}), attr),
        ("5 stars red, attribute desc", PhotoFilter(min_rating=5, color_labels={"red"}), attr),
        ("search horizon, attribute desc", PhotoFilter(search="horizon"), attr),
        ("picks, measure desc", PhotoFilter(flags={1}), SortSpec("measure:sharpness", True)),
    ]


def timed(fn: Any, runs: int) -> tuple[float, float, Any]:
    """Median wall and CPU (this thread) milliseconds of ``runs`` calls, and the last answer."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.thread_time()
        result = fn()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.thread_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("catalog", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    from artimuse_desktop.catalog.collections import KnownCounts, ViewQuery, run_view_head, run_view_page
    from artimuse_desktop.catalog.db import open_catalog
    from artimuse_desktop.catalog.library_stats import score_histogram
    from artimuse_desktop.catalog.queries import count_photos, photo_id_array, photo_ids

    catalog = open_catalog(args.catalog)
    out: dict[str, Any] = {"load": os.getloadavg()[0]}
    try:
        for name, flt, sort in views():
            query = ViewQuery("all", None, flt, sort, False)
            row: dict[str, Any] = {}
            with catalog.read() as session:
                row["full_ms"], row["full_cpu"], ids = timed(
                    lambda f=flt, o=sort: photo_id_array(session, f, o), args.runs
                )
                row["first_600_ms"], row["first_600_cpu"], _ = timed(
                    lambda f=flt, o=sort: photo_ids(session, f, o, limit=600), args.runs
                )
                row["count_ms"], row["count_cpu"], _ = timed(lambda f=flt: count_photos(session, f), args.runs)
            row["head_ms"], row["head_cpu"], head = timed(lambda q=query: run_view_head(catalog, q, 600), args.runs)
            known = KnownCounts(None, head.collection_total, head.catalog_total)  # a filter change: totals kept
            row["head_known_ms"], row["head_known_cpu"], _ = timed(
                lambda q=query, k=known: run_view_head(catalog, q, 600, k), args.runs
            )
            counts = (head.count, head.catalog_total)
            row["page_5000_ms"], row["page_5000_cpu"], _ = timed(
                lambda q=query, c=counts: run_view_page(catalog, q, 5000, 200, c), args.runs
            )
            row = {key: round(value, 1) for key, value in row.items()}
            row["rows"], row["page_reach"] = len(ids), head.page_reach
            out[name] = row
            print(f"{name:32s} {row}", flush=True)
        with catalog.read() as session:
            out["histogram_ms"], out["histogram_cpu"], _ = timed(lambda: score_histogram(session), args.runs)
        print("histogram", round(out["histogram_ms"], 1), round(out["histogram_cpu"], 1))
    finally:
        catalog.close()
    out["load_after"] = os.getloadavg()[0]
    print("load", out["load"], out["load_after"])
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
