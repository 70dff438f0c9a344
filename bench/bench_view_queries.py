"""SQL-only bench of the grid's view changes: what ``run_view_query`` costs per sort, filter and search.

    python bench/bench_view_queries.py CATALOG [--runs 3] [--json out.json]

Times, on one catalog (e.g. the 300,000-photo one ``bench_gui.py --grid --catalog-dir`` keeps), the full
ordered id array of each view the grid offers, its first 600 ids (a screenful or two), its count and the
score histogram, with the load average beside them (the machine is shared). Target at 300k: 150 ms.
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

    return [
        ("capture time", PhotoFilter(), SortSpec("captured_at")),
        ("capture time desc", PhotoFilter(), SortSpec("captured_at", True)),
        ("score desc", PhotoFilter(), SortSpec("score", True)),
        ("file name", PhotoFilter(), SortSpec("filename")),
        ("rating desc", PhotoFilter(), SortSpec("rating", True)),
        ("attribute desc", PhotoFilter(), SortSpec("attr:Composition & Design", True)),
        ("attribute asc", PhotoFilter(), SortSpec("attr:Composition & Design")),
        ("measure desc", PhotoFilter(), SortSpec("measure:sharpness", True)),
        ("picks", PhotoFilter(flags={1}), SortSpec("captured_at")),
        ("picks desc", PhotoFilter(flags={1}), SortSpec("captured_at", True)),
        ("unrated", PhotoFilter(flags={0}, max_rating=0), SortSpec("captured_at")),
        ("rating >= 3", PhotoFilter(min_rating=3), SortSpec("captured_at")),
        ("label red", PhotoFilter(color_labels={"red"}), SortSpec("captured_at")),
        ("score >= 60", PhotoFilter(min_score=60.0), SortSpec("captured_at")),
        ("search", PhotoFilter(search="horizon light"), SortSpec("captured_at")),
        ("search, score desc", PhotoFilter(search="horizon light"), SortSpec("score", True)),
    ]


def timed(fn: Any, runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("catalog", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    from artimuse_desktop.catalog.db import open_catalog
    from artimuse_desktop.catalog.queries import count_photos, photo_id_array, photo_ids, score_histogram

    catalog = open_catalog(args.catalog)
    out: dict[str, Any] = {"load": os.getloadavg()[0]}
    try:
        for name, flt, sort in views():
            with catalog.read() as session:
                full_ms, ids = timed(lambda f=flt, o=sort: photo_id_array(session, f, o), args.runs)
                first_ms, _ = timed(lambda f=flt, o=sort: photo_ids(session, f, o, limit=600), args.runs)
                count_ms, _ = timed(lambda f=flt: count_photos(session, f), args.runs)
            row: dict[str, Any] = {
                "full_ms": round(full_ms, 1),
                "first_600_ms": round(first_ms, 1),
                "count_ms": round(count_ms, 1),
                "rows": len(ids),
            }
            out[name] = row
            print(f"{name:22s} {row}", flush=True)
        with catalog.read() as session:
            out["histogram_ms"] = round(timed(lambda: score_histogram(session), args.runs)[0], 1)
        print("histogram", out["histogram_ms"])
    finally:
        catalog.close()
    out["load_after"] = os.getloadavg()[0]
    print("load", out["load"], out["load_after"])
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
