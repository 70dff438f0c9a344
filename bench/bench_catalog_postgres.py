"""Catalog queries on PostgreSQL against SQLite, same rows, same run: what a shared studio catalog costs.

    python bench/bench_catalog_postgres.py [--photos 100000] [--runs 5] [--durable] [--json out.json]

Both catalogs get the same generated rows (``tests/demo_library.bulk_catalog``: photos with technical measures
and ArtiMuse-style attribute scores for 80 %), and critiques on one attribute so the full-text search has text
to search (FTS5 on SQLite, the GIN-indexed tsvector on PostgreSQL). The PostgreSQL server is a throw-away one
on 127.0.0.1 started as the tests start theirs (``tests/postgres.py``; without fsync unless ``--durable``),
then VACUUM ANALYZE as autovacuum would leave it. The SQLite catalog is filled through the app; its rows are
then copied into PostgreSQL with COPY (``--fill-both`` fills PostgreSQL through the app too, and times both).
Each query runs through the app's own ``catalog.queries`` (the grid's id lists, counts, histogram values, a
page of records) and prints median ms on each engine and the ratio PostgreSQL / SQLite. Over TCP on localhost:
a real studio adds its network's round trips.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Critiques on one attribute, some with accents, so the search has words and prefixes to find.
CRITIQUE_SQL = (
    "UPDATE attribute_scores SET critique = CASE id % 4 "
    "WHEN 0 THEN 'The horizon sits on the lower third and the ridge lines lead the eye into the light.' "
    "WHEN 1 THEN 'La lumière est très douce, un café au bord du lac.' "
    "WHEN 2 THEN 'Strong diagonal layers create depth; the bright sky pulls attention away.' "
    "ELSE 'The main subject is centred, which feels static.' END "
    "WHERE attribute = 'Composition & Design' AND id % 3 = 0"
)


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """(median ms, last result) after one warm-up call."""
    result = fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def build(location: str | Path, count: int) -> float:
    """Fill a new catalog with ``count`` photos; returns the seconds it took."""
    from sqlalchemy import text

    from artimuse_desktop.catalog.db import Catalog
    from tests.demo_library import bulk_catalog

    started = time.perf_counter()
    with Catalog(location) as catalog:
        bulk_catalog(catalog, count)
        with catalog.engine.begin() as connection:
            connection.execute(text(CRITIQUE_SQL))  # text(): % escaped for psycopg
        if catalog.dialect == "sqlite":
            with catalog.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        else:
            with catalog.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    return time.perf_counter() - started


def copy_to_server(sqlite_path: Path, url: str) -> float:
    """The SQLite catalog's rows into a new PostgreSQL catalog with COPY, triggers off (``photos.score`` is
    copied as the triggers left it): the same rows in seconds, where filling through the app takes minutes."""
    import sqlite3

    import psycopg

    from artimuse_desktop.catalog.db import Catalog
    from artimuse_desktop.catalog.models import Base

    started = time.perf_counter()
    Catalog(url).close()  # the schema, by the migrations
    source = sqlite3.connect(sqlite_path)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as target:
        target.execute("SET session_replication_role = replica")  # no triggers, no foreign-key checks
        for table in Base.metadata.sorted_tables:
            columns = [column.name for column in table.columns]
            names = ", ".join(f'"{name}"' for name in columns)
            rows = source.execute(f"SELECT {names} FROM {table.name}")
            with target.cursor().copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            if "id" in columns:
                target.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT COALESCE(max(id), 0) + 1 FROM {table.name}), false)"
                )
        target.commit()
        target.autocommit = True
        target.execute("VACUUM ANALYZE")
    source.close()
    return time.perf_counter() - started


def queries_to_time() -> list[tuple[str, Callable[[Any], Any]]]:
    from artimuse_desktop.catalog import library_stats, queries
    from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec

    rated = PhotoFilter(min_rating=1)
    return [
        ("ids: score ↓, all", lambda s: queries.photo_ids(s, None, SortSpec("score", True))),
        ("ids: score ↓, rating ≥ 1", lambda s: queries.photo_ids(s, rated, SortSpec("score", True))),
        ("ids: capture time ↑ (default view)", lambda s: queries.photo_ids(s, None, SortSpec())),
        ("ids: file name ↑, picks", lambda s: queries.photo_ids(s, PhotoFilter(flags={1}), SortSpec("filename"))),
        (
            "ids: score 60–100, score ↓",
            lambda s: queries.photo_ids(s, PhotoFilter(min_score=60), SortSpec("score", True)),
        ),
        (
            "ids: attribute ↓ (Composition & Design)",
            lambda s: queries.photo_ids(s, None, SortSpec("attr:Composition & Design", True)),
        ),
        (
            "ids: measure sharpness ≥ 400, score ↓",
            lambda s: queries.photo_ids(s, PhotoFilter(measure_min={"sharpness": 400}), SortSpec("score", True)),
        ),
        ("ids: folder 2016", lambda s: queries.photo_ids(s, PhotoFilter(folder="/photos/archive/2016"), SortSpec())),
        ("ids: search 'IMG_0123' (file names)", lambda s: queries.photo_ids(s, PhotoFilter(search="IMG_0123"))),
        ("ids: search 'horizon' (critiques)", lambda s: queries.photo_ids(s, PhotoFilter(search="horizon"))),
        ("ids: search 'lumi tres' (prefix, accents)", lambda s: queries.photo_ids(s, PhotoFilter(search="lumi tres"))),
        ("count: rating ≥ 1", lambda s: queries.count_photos(s, rated)),
        ("histogram: score values, all", lambda s: library_stats.score_values(s)),
        ("records: one grid page (200)", lambda s: queries.records_by_ids(s, list(range(50_001, 50_201)))),
        ("folder counts (tree)", lambda s: library_stats.folder_counts(s)),
    ]


def measure(location: str | Path, runs: int) -> dict[str, tuple[float, int]]:
    from artimuse_desktop.catalog.db import Catalog

    results: dict[str, tuple[float, int]] = {}
    with Catalog(location) as catalog:
        for name, query in queries_to_time():

            def run(query: Callable[[Any], Any] = query) -> Any:
                with catalog.read() as session:
                    return query(session)

            median, value = timed(run, runs)
            results[name] = (median, len(value) if isinstance(value, list) else int(value))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--durable", action="store_true", help="PostgreSQL with fsync on (slower to fill)")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument(
        "--fill-both", action="store_true", help="fill PostgreSQL through the app too, not by COPY (much slower)"
    )
    args = parser.parse_args(argv)

    from tests.postgres import start_server

    with tempfile.TemporaryDirectory(prefix="artimuse-bench-") as folder, start_server(durable=args.durable) as server:
        sqlite_path = Path(folder) / "catalog.sqlite"
        pg_url = server.url(server.create_database("bench"))
        print(
            f"{args.photos:,} photos; PostgreSQL on 127.0.0.1:{server.port} (fsync {'on' if args.durable else 'off'})"
        )
        fill = {"sqlite": build(sqlite_path, args.photos)}
        if args.fill_both:
            fill["postgresql"] = build(pg_url, args.photos)
            print(f"filled through the app in {fill['sqlite']:.1f} s (SQLite), {fill['postgresql']:.1f} s (PostgreSQL)")
        else:
            fill["postgresql_copy"] = copy_to_server(sqlite_path, pg_url)
            print(f"filled SQLite through the app in {fill['sqlite']:.1f} s; copied to PostgreSQL in "
                  f"{fill['postgresql_copy']:.1f} s")  # fmt: skip
        print()
        lite, pg = measure(sqlite_path, args.runs), measure(pg_url, args.runs)
    width = max(len(name) for name in lite)
    print(f"{'query':<{width}}  {'rows':>7}  {'SQLite ms':>9}  {'PG ms':>8}  {'PG/SQLite':>9}")
    rows = []
    for name, (lite_ms, count) in lite.items():
        pg_ms, pg_count = pg[name]
        ratio = pg_ms / lite_ms if lite_ms else float("inf")
        flag = "" if pg_count == count else f"  (PostgreSQL: {pg_count} rows)"
        print(f"{name:<{width}}  {count:>7,}  {lite_ms:>9.1f}  {pg_ms:>8.1f}  {ratio:>8.2f}x{flag}")
        rows.append({"query": name, "rows": count, "sqlite_ms": lite_ms, "postgresql_ms": pg_ms, "pg_rows": pg_count})
    if args.json:
        args.json.write_text(json.dumps({"photos": args.photos, "fill_s": fill, "queries": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
