"""Pipeline overhead: run_scoring versus calling the backend directly on the same batches.

Usage: python bench/bench_pipeline.py [--photos 200] [--batch-size 8] [--model technical]

Both sides prepare (decode) and score the same photos with the same backend; the direct loop does it
sequentially with no catalog, the pipeline adds selection, prefetch threads, catalog writes and progress.
Target: overhead under 10 % (the pipeline is usually faster, since it decodes ahead on all cores).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artimuse_desktop.catalog import Catalog
from artimuse_desktop.catalog.models import Photo
from artimuse_desktop.scoring.pipeline import run_scoring, select_photos
from artimuse_desktop.scoring.registry import create_backend
from tests.images import write_jpeg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--model", default="technical")
    parser.add_argument("--size", default="1600x1067", help="photo size WxH (default: a preview's size)")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ARTIMUSE_HOME"] = str(Path(tmp) / "home")
        folder = Path(tmp) / "photos"
        catalog = Catalog(Path(tmp) / "catalog.sqlite")
        distinct = min(args.photos, 20)
        sources = [write_jpeg(folder / f"src{i}.jpg", width, height, seed=i) for i in range(distinct)]
        with catalog.write() as session:
            for i in range(args.photos):
                source = sources[i % distinct]
                session.add(
                    Photo(
                        path=str(source) + f"#{i}" if i >= distinct else str(source),
                        folder=str(folder),
                        filename=source.name,
                        size=source.stat().st_size,
                        mtime=0.0,
                        fingerprint=f"{i + 1:032x}",
                        status="ok",
                        flag=0,
                        rating=0,
                    )
                )
        items = [
            item.__class__(**{**item.__dict__, "path": item.path.split("#")[0]})
            for item in select_photos(catalog, args.model, "bench")
        ]
        backend = create_backend(args.model)
        backend.load("cpu")
        backend.score_batch([backend.prepare(items[0])])  # warm up

        started = time.perf_counter()
        for start in range(0, len(items), args.batch_size):
            batch = items[start : start + args.batch_size]
            backend.score_batch([backend.prepare(item) for item in batch])
        direct = time.perf_counter() - started

        started = time.perf_counter()
        summary = run_scoring(catalog, backend, batch_size=args.batch_size, items=items)
        piped = time.perf_counter() - started
        assert summary.scored == len(items), summary.failures[:3]

        started = time.perf_counter()
        run_scoring(catalog, backend, batch_size=args.batch_size, items=items, prefetch_workers=1)
        piped_one = time.perf_counter() - started

    n = len(items)
    print(f"{n} photos {width}x{height}, model {args.model}, batch {args.batch_size}, {os.cpu_count()} cores")
    print(f"  direct backend calls (sequential): {direct:7.2f} s  {n / direct:7.1f} photos/s")
    print(
        f"  pipeline, prefetch on all cores : {piped:7.2f} s  {n / piped:7.1f} photos/s  "
        f"overhead {100 * (piped / direct - 1):+.1f} %"
    )
    print(
        f"  pipeline, one prefetch thread   : {piped_one:7.2f} s  {n / piped_one:7.1f} photos/s  "
        f"overhead {100 * (piped_one / direct - 1):+.1f} %"
    )


if __name__ == "__main__":
    main()
