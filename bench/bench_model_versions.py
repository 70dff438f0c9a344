"""The library's model versions (``library_stats.model_versions``) in a large catalog: with migration 0007's
index against without it, in the same run.

``python bench/bench_model_versions.py --photos 300000 --work DIR`` builds (once, kept in DIR) a catalog of
``--photos`` photos with two models' current assessments and an older version of one (the assessments are
written straight into the table: the query reads no trigger-kept table), copies it without the index, and times
``model_versions`` in each, and the DISTINCT it replaced (``distinct_versions``) without the index, best of
``--runs``.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INDEX = "ix_assessments_current_model_version"


def build(path: Path, photos: int) -> None:
    """A catalog at the head schema, its photos and assessments inserted in bulk."""
    from artimuse_desktop.catalog import Catalog

    Catalog(path).close()  # the schema, at head
    now = datetime(2026, 12, 1).isoformat(sep=" ")
    db = sqlite3.connect(path)
    triggers = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    for name in triggers:  # a bulk fill: the query below reads none of the tables they keep
        db.execute(f'DROP TRIGGER "{name}"')
    db.execute("INSERT INTO library_roots (id, path, added_at) VALUES (1, ?, ?)", (b"/photos", now))
    db.executemany(
        "INSERT INTO photos (id, root_id, path, folder, filename, size, mtime, status, flag, rating)"
        " VALUES (?, 1, ?, ?, ?, 1000, 0, 'ok', 0, 0)",
        ((i, f"/photos/p{i:07d}.jpg".encode(), b"/photos", f"p{i:07d}.jpg") for i in range(1, photos + 1)),
    )
    rows = []
    for i in range(1, photos + 1):
        rows.append((i, "technical", "t3", 50.0, now, 1))
        rows.append((i, "artimuse:ArtiMuse", "w1.c1", 60.0, now, 1))
        if i % 10 == 0:  # a tenth scored by the model's earlier version too
            rows.append((i, "artimuse:ArtiMuse", "w0.c1", 55.0, now, 0))
    db.executemany(
        "INSERT INTO assessments (photo_id, model, model_version, score, created_at, current)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def distinct_versions(session: object) -> dict[str, list[str]]:
    """``model_versions`` as it was before migration 0007: one DISTINCT over the current assessments."""
    from sqlalchemy import select

    from artimuse_desktop.catalog.models import Assessment

    stmt = (
        select(Assessment.model, Assessment.model_version)
        .where(Assessment.current.is_(True))
        .distinct()
        .order_by(Assessment.model, Assessment.model_version)
    )
    versions: dict[str, list[str]] = {}
    for model, version in session.execute(stmt):  # type: ignore[attr-defined]
        versions.setdefault(model, []).append(version)
    return versions


def timed(path: Path, runs: int, query: object = None) -> tuple[float, dict[str, list[str]]]:
    from sqlalchemy.orm import Session

    from artimuse_desktop.catalog import Catalog
    from artimuse_desktop.catalog.library_stats import model_versions

    query = query or model_versions
    catalog = Catalog(path)
    try:
        best, result = float("inf"), {}
        for _ in range(runs):
            with Session(catalog.engine) as session:
                started = time.perf_counter()
                result = query(session)  # type: ignore[operator]
                best = min(best, time.perf_counter() - started)
        return best, result
    finally:
        catalog.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    catalog = args.work / f"versions-{args.photos}.sqlite"
    if not catalog.is_file():
        started = time.perf_counter()
        build(catalog, args.photos)
        print(f"built {catalog} in {time.perf_counter() - started:.1f} s")
    without = args.work / f"versions-{args.photos}-without.sqlite"
    shutil.copy(catalog, without)
    db = sqlite3.connect(without)
    db.execute(f'DROP INDEX "{INDEX}"')
    db.commit()
    db.close()
    after, versions = timed(catalog, args.runs)
    # the revision stays 0007: Catalog does not put the index back (it only upgrades older revisions)
    hops, same = timed(without, args.runs)
    before, old = timed(without, args.runs, distinct_versions)
    assert versions == same == old, (versions, same, old)
    print(f"model_versions at {args.photos:,} photos: {versions}")
    print(f"  before (DISTINCT, no index): {before * 1e3:.1f} ms; the hops without the index: {hops * 1e3:.1f} ms;")
    print(f"  the hops along the index: {after * 1e3:.2f} ms ({before / after:.0f}x)")


if __name__ == "__main__":
    main()
