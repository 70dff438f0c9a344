"""Saving scores into a large catalog: this tree's sort-value triggers against 0005's, in the same run.

``python bench/bench_score_save.py --photos 50000 --new 20 --work DIR`` builds (once, kept in DIR) a catalog of
``--photos`` rows with technical measures and ArtiMuse attribute scores and no SQLite statistics (as every
new catalog has), copies it, puts migration 0005's triggers back in the copy (``0006``'s ``REWRITES``
undone), and times saving ``--new`` new photos' scores through the scoring store into each, best of
``--runs``.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEASURES = {"sharpness": 420.0, "noise": 1.5, "highlight_clipping": 0.4, "exposure": 0.1}


def migration_0006() -> ModuleType:
    path = ROOT / "artimuse_desktop" / "catalog" / "migrations" / "versions" / "0006_trigger_join_order.py"
    spec = importlib.util.spec_from_file_location("migration_0006", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def with_0005_triggers(path: Path) -> None:
    """The triggers as 0005 wrote them, in the file at ``path``."""
    connection = sqlite3.connect(path)
    with connection:
        for name, sql in connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall():
            text = sql
            for old, new in migration_0006().REWRITES:
                text = text.replace(new, old)
            if text != sql:
                connection.execute(f'DROP TRIGGER "{name}"')
                connection.execute(text)
    connection.close()


def save_new_photos(path: Path, first: int, count: int) -> float:
    """Seconds to store ``count`` new photos' technical and ArtiMuse scores, one scoring batch each."""
    from artimuse_desktop.catalog import Catalog
    from artimuse_desktop.vocabulary import ATTRIBUTES
    from tests.factory import add_photo, save_scores, score_result

    attributes = {name: (55.0 + index, None) for index, name in enumerate(ATTRIBUTES)}
    with Catalog(path) as catalog:
        photos = [add_photo(catalog, f"/photos/new/IMG_{first + n}.jpg") for n in range(count)]
        started = time.perf_counter()
        for photo in photos:
            save_scores(catalog, "technical", {photo: score_result(61.0, measures=MEASURES)})
            save_scores(catalog, "artimuse", {photo: score_result(58.0, attributes)})
        return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=50_000)
    parser.add_argument("--new", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args(argv)
    from artimuse_desktop.catalog import Catalog
    from tests.demo_library import bulk_catalog

    args.work.mkdir(parents=True, exist_ok=True)
    source = args.work / f"save-{args.photos}.sqlite"
    if not source.exists():
        started = time.perf_counter()
        with Catalog(source) as catalog:
            bulk_catalog(catalog, args.photos)
        print(f"catalog of {args.photos:,} photos built in {time.perf_counter() - started:.1f} s")
    best: dict[str, float] = {}
    for run in range(args.runs):
        for label in ("after", "before"):
            copy = args.work / f"save-{label}.sqlite"
            shutil.copy(source, copy)
            if label == "before":
                with_0005_triggers(copy)
            seconds = save_new_photos(copy, args.photos + 1 + run * args.new, args.new)
            best[label] = min(best.get(label, seconds), seconds)
            copy.unlink()
    for label, seconds in best.items():
        print(f"{label:<7} {seconds / args.new * 1000:8.1f} ms per new photo (best of {args.runs})")
    print(f"before / after: {best['before'] / best['after']:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
