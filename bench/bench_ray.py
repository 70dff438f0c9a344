"""Scoring on Ray versus the local pipeline: the same photos, the built-in analyzer, in the same run.

Usage: python bench/bench_ray.py [--photos 1000] [--megapixels 24] [--batch-size 8] [--address auto|HOST:PORT]

With a cluster already running (``ray start --head`` beforehand, then ``--address auto`` or HOST:PORT) the
bench joins it; otherwise it starts one itself (``ray start --head --block`` on a free port in a temporary
folder, stopped at the end) and reports that start-up separately. Photos are real-size JPEGs made from
scikit-image's sample photographs and the tests' photo-like scenes, resized; each file gets a unique tail after
the JPEG's end, so every photo has its own fingerprint and preview without encoding a thousand JPEGs. They are
indexed with the real ``index`` command (previews included, as a user's are), then scored twice from copies of
that catalog: by the local pipeline and through Ray. Target: Ray at most 1.3x the local pipeline's time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image

from artimuse_desktop.catalog import Catalog
from artimuse_desktop.cli import main as cli
from artimuse_desktop.scoring.cluster.connect import connect, probe
from artimuse_desktop.scoring.cluster.driver import RayScoringRun
from artimuse_desktop.scoring.cluster.workers import BackendSpec
from artimuse_desktop.scoring.pipeline import run_scoring
from artimuse_desktop.scoring.registry import create_backend
from tests.images import photo_like


def sources(folder: Path, megapixels: float, count: int = 8) -> list[bytes]:
    """JPEG bytes of ``count`` distinct real-size photos (3:2), from real sample photographs where available."""
    width = int((megapixels * 1e6 * 1.5) ** 0.5)
    height = int(width / 1.5)
    images: list[Image.Image] = []
    try:
        from skimage import data

        for name in ("astronaut", "coffee", "chelsea", "rocket"):
            images.append(Image.fromarray(getattr(data, name)()).convert("RGB"))
    except ImportError:
        print("scikit-image not installed: photo-like scenes only")
    seed = 0
    while len(images) < count:
        images.append(photo_like(1200, 800, seed=seed))
        seed += 1
    encoded = []
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images[:count]):
        path = folder / f"source{i}.jpg"
        image.resize((width, height), Image.Resampling.BICUBIC).save(path, "JPEG", quality=90)
        encoded.append(path.read_bytes())
    return encoded


def make_photos(folder: Path, count: int, megapixels: float) -> None:
    data = sources(folder.parent / "sources", megapixels)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        # Bytes after the end-of-image marker are ignored by decoders but change the fingerprint.
        (folder / f"IMG_{i:05d}.jpg").write_bytes(data[i % len(data)] + f"bench photo {i}".encode())


def start_cluster(tmp: Path, num_cpus: int | None) -> tuple[subprocess.Popen[bytes], str, float]:
    """``ray start --head --block`` on a free port; returns (process, address, seconds until it answers)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    temp_dir = tempfile.mkdtemp(prefix="raybench", dir="/tmp")
    ray_bin = Path(sys.executable).with_name("ray")
    command = [
        str(ray_bin),
        "start",
        "--head",
        "--block",
        f"--port={port}",
        "--include-dashboard=false",
        f"--temp-dir={temp_dir}",
        "--disable-usage-stats",
    ]
    if num_cpus:
        command.append(f"--num-cpus={num_cpus}")
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"127.0.0.1:{port}"
    while probe(address) is not None:
        if process.poll() is not None:
            raise SystemExit(f"ray start failed (exit {process.returncode})")
        time.sleep(0.1)
    return process, address, time.perf_counter() - started


def scores(path: Path) -> dict[int, Any]:
    from sqlalchemy import select

    from artimuse_desktop.catalog.models import Assessment

    with Catalog(path) as catalog, catalog.read() as session:
        return dict(session.execute(select(Assessment.photo_id, Assessment.score)).all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--megapixels", type=float, default=24.0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--address",
        default=None,
        help="a running cluster: HOST:PORT, or auto for the head started here with 'ray start --head' "
        "(default: the bench starts its own and reports its start-up)",
    )
    parser.add_argument("--num-cpus", type=int, default=None, help="CPUs of a cluster the bench starts")
    parser.add_argument("--keep", default=None, help="reuse/keep the photos and index in this folder")
    args = parser.parse_args()
    tmp_handle = None if args.keep else tempfile.TemporaryDirectory(prefix="bench-ray-")
    tmp = Path(args.keep or tmp_handle.name)  # type: ignore[union-attr]
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ["ARTIMUSE_HOME"] = str(tmp / "home")
    photos, indexed = tmp / "photos", tmp / "indexed.sqlite"
    process = None
    try:
        if not indexed.exists():
            t = time.perf_counter()
            make_photos(photos, args.photos, args.megapixels)
            print(f"made {args.photos} photos of {args.megapixels:g} MP in {time.perf_counter() - t:.1f} s")
            t = time.perf_counter()
            assert cli(["--catalog", str(indexed), "index", "--quiet", str(photos)]) == 0
            print(f"indexed (with previews) in {time.perf_counter() - t:.1f} s")
        for f in sorted((tmp / "home").rglob("*.jpg")) + sorted(photos.iterdir()):
            f.read_bytes()  # both runs start with warm files
        local_db, ray_db = tmp / "local.sqlite", tmp / "ray.sqlite"
        shutil.copy(indexed, local_db)
        shutil.copy(indexed, ray_db)

        address, startup = args.address, None
        if address is None:
            process, address, startup = start_cluster(tmp, args.num_cpus)
        t = time.perf_counter()
        connection = connect(address)
        connect_s = time.perf_counter() - t

        t = time.perf_counter()
        with Catalog(local_db) as catalog:
            local = run_scoring(catalog, create_backend("technical"), batch_size=args.batch_size)
        local_s = time.perf_counter() - t

        t = time.perf_counter()
        with Catalog(ray_db) as catalog:
            run = RayScoringRun(catalog, BackendSpec("technical"), batch_size=args.batch_size)
            on_ray = run.run()
        ray_s = time.perf_counter() - t
        connection.close()
        assert local.scored == on_ray.scored == args.photos, (local.scored, on_ray.scored)
        same = scores(local_db) == scores(ray_db)
        import ray

        print(f"cluster: {address} ({int(ray.__version__.split('.')[0])}.x, {os.cpu_count()} cores here)")
        if startup is not None:
            print(f"cluster start-up (ray start --head, until it answers): {startup:.2f} s")
        print(f"joining the cluster (ray.init): {connect_s:.2f} s")
        print(f"local pipeline: {local_s:.2f} s ({args.photos / local_s:.1f} photos/s)")
        actors = run.plan.count if run.plan else 0
        print(f"Ray:            {ray_s:.2f} s ({args.photos / ray_s:.1f} photos/s), {actors} actor(s)")
        print(f"ratio Ray/local: {ray_s / local_s:.2f} (target <= 1.3); identical scores: {same}")
    finally:
        if process is not None:
            process.terminate()  # ray start --block stops the cluster it started
            process.wait(timeout=60)
        if tmp_handle is not None:
            tmp_handle.cleanup()


if __name__ == "__main__":
    main()
