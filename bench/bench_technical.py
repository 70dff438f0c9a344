"""Throughput of the built-in technical analyzer on one CPU core, from previews and from 24 MP originals.

Generates N photographic-like 6000×4000 JPEGs (quality 90, detail and grain so the files are camera-sized)
and their 1600 px previews (progressive, quality 88, as the thumbnail cache writes them) in a temporary
folder, then times, per photo, the two halves of the backend's ``prepare``: ``load_pixels`` (decode to
~512 px) and the analysis (all measures, scores and notes):

(a) from the previews, the normal case once a folder has been browsed;
(b) from the originals with the imaging module's reduced decode (JPEG DCT scaling), when no preview exists.

(c) faces and eyes alone (detector, face mesh and both eyelid contours), at the analysis size, on real
    photographs from scikit-image: the astronaut (one face), three heads in one frame, and a photo with no
    face (coffee): the cost the ``faces`` extra adds per photo.

Usage: python bench/bench_technical.py [--count N] [--keep DIR] [--faces-only]
"""

from __future__ import annotations

import os

# One core: keep numpy's BLAS (used for the luma matrix product) single-threaded. Set before numpy loads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artimuse_desktop.scoring.technical.backend import PrepareFailure, TechnicalBackend  # noqa: E402
from artimuse_desktop.scoring.technical.measures import analyze  # noqa: E402
from artimuse_desktop.scoring.technical.notes import build_result  # noqa: E402
from artimuse_desktop.scoring.types import PhotoInput  # noqa: E402

FULL = (6000, 4000)
PREVIEW_EDGE = 1600


def _smooth(rng: np.random.Generator, size: tuple[int, int], cells: int) -> np.ndarray:
    w, h = size
    small = rng.random((max(2, h * cells // w), cells)).astype(np.float32)
    return np.asarray(Image.fromarray(small, mode="F").resize((w, h), Image.Resampling.BICUBIC), np.float32)


def make_photo(seed: int) -> Image.Image:
    """A 24 MP landscape: sky and clouds, a textured field, a subject; fine detail and grain at full size."""
    rng = np.random.default_rng(seed)
    w, h = 1500, 1000
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = yy / h
    horizon = 0.45 + 0.15 * rng.random()
    sky = np.stack([0.45 + 0.3 * t, 0.6 + 0.25 * t, 0.9 + 0.05 * t], axis=-1)
    puff = _smooth(rng, (w, h), 12)
    cover = np.clip((puff - 0.5) * 3.0, 0.0, 0.85)[..., None]
    img = sky * (1 - cover) + (0.8 + 0.15 * puff)[..., None] * cover
    tex = _smooth(rng, (w, h), 60) * 0.3 + _smooth(rng, (w, h), 300) * 0.2
    ground = np.stack([0.22 + tex * 0.9, 0.35 + tex * 0.9, 0.1 + tex * 0.4], axis=-1)
    img = np.where((yy >= horizon * h)[..., None], ground, img)
    cx, cy, r = (0.25 + 0.5 * rng.random()) * w, (horizon - 0.1) * h, 0.07 * w
    disc = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    img[disc] = np.where((np.sin((xx + yy) / 2.0) > 0)[disc][:, None], (0.85, 0.2, 0.1), (0.95, 0.85, 0.3))
    base = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8), "RGB").resize(FULL, Image.Resampling.BILINEAR)
    # full-resolution texture and sensor grain, from a tiled noise field (cheap at 24 MP)
    tile = rng.normal(0.0, 9.0, (500, 500, 3)).astype(np.int16)
    grain = np.tile(tile, (FULL[1] // 500, FULL[0] // 500, 1))
    pixels = np.asarray(base, np.int16) + grain
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def generate(folder: Path, count: int) -> list[PhotoInput]:
    items = []
    for i in range(count):
        original = folder / f"IMG_{i:04d}.jpg"
        preview = folder / "previews" / f"{i:04d}.jpg"
        preview.parent.mkdir(parents=True, exist_ok=True)
        photo = make_photo(i)
        photo.save(original, "JPEG", quality=90)
        photo.resize((PREVIEW_EDGE, PREVIEW_EDGE * FULL[1] // FULL[0]), Image.Resampling.LANCZOS).save(
            preview, "JPEG", quality=88, progressive=True
        )
        items.append(PhotoInput(photo_id=i, path=str(original), fingerprint=f"{i:064x}", preview_path=str(preview)))
        print(f"\r  generated {i + 1}/{count}", end="", flush=True)
    print()
    return items


def run(items: list[PhotoInput], use_preview: bool) -> dict[str, float]:
    backend = TechnicalBackend()
    backend.load("cpu")
    chosen = [
        item if use_preview else PhotoInput(item.photo_id, item.path, item.fingerprint, preview_path=None)
        for item in items
    ]
    backend.score_batch([backend.prepare(chosen[0])])  # warm-up: imports, first-call costs
    prepare_ms: list[float] = []
    score_ms: list[float] = []
    start = time.perf_counter()
    for item in chosen:
        t0 = time.perf_counter()
        pixels = backend.load_pixels(item)
        t1 = time.perf_counter()
        if isinstance(pixels, PrepareFailure):
            raise SystemExit(f"{item.path}: {pixels.reason}")
        result = build_result(analyze(pixels))
        t2 = time.perf_counter()
        if result.error:
            raise SystemExit(f"{item.path}: {result.error}")
        prepare_ms.append((t1 - t0) * 1000)
        score_ms.append((t2 - t1) * 1000)
    total = time.perf_counter() - start
    return {
        "prepare": statistics.mean(prepare_ms),
        "score": statistics.mean(score_ms),
        "total": total / len(chosen) * 1000,
        "rate": len(chosen) / total,
    }


def bench_faces(repeats: int = 50) -> None:
    """Milliseconds per photo that faces and eyes add, one core, at analysis size (real photographs)."""
    from artimuse_desktop.scoring.technical import faces

    reason = faces.unavailable_reason()
    if reason is not None:
        print(f"faces: skipped ({reason})")
        return
    try:
        import skimage.data as data
    except ImportError:
        print("faces: skipped (scikit-image, which ships the sample photos, is not installed)")
        return
    astronaut = Image.fromarray(data.astronaut())
    heads = [astronaut.crop((120, 10, 330, 250)).resize((170, 194)) for _ in range(3)]
    group = Image.new("RGB", (510, 194), (128, 128, 128))
    for i, head in enumerate(heads):
        group.paste(head, (i * 170, 0))
    coffee = Image.fromarray(data.coffee())
    coffee = coffee.resize((512, round(512 * coffee.height / coffee.width)))
    # CPU time of this thread as well as wall time: on a busy machine the wall clock also counts waiting
    print(f"{'faces and eyes':<34}{'faces':>6}{'wall ms':>10}{'cpu ms':>10}")
    for name, image in (("astronaut 512×512", astronaut), ("three heads 510×194", group), ("no face (coffee)", coffee)):
        pixels = np.asarray(image, np.float32) / np.float32(255.0)
        found = faces.find_faces(pixels)  # warm-up: loads the interpreters
        times, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.thread_time()
            faces.find_faces(pixels)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
        print(f"{name:<34}{len(found):>6}{statistics.median(times):>10.1f}{statistics.median(cpu):>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20, help="number of 24 MP photos (default 20)")
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it (reused if present)")
    parser.add_argument("--faces-only", action="store_true", help="only time faces and eyes (c)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, for the whole process
    if args.faces_only:
        bench_faces()
        return

    with tempfile.TemporaryDirectory(prefix="bench-technical-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"Generating {args.count} JPEGs of {FULL[0]}×{FULL[1]} and {PREVIEW_EDGE}-px previews in {folder}")
        items = generate(folder, args.count)
        sizes = [Path(i.path).stat().st_size for i in items]
        preview_sizes = [Path(str(i.preview_path)).stat().st_size for i in items]
        mean_mb, mean_kb = statistics.mean(sizes) / 1e6, statistics.mean(preview_sizes) / 1e3
        print(f"  originals {mean_mb:.1f} MB, previews {mean_kb:.0f} kB on average")
        rows = [("(a) preview 1600 px", run(items, True)), ("(b) original 24 MP", run(items, False))]

    print()
    print(f"Technical analyzer, one core, {args.count} photos, analysis at 512 px")
    print(f"{'source':<22}{'decode ms':>11}{'analyze ms':>12}{'total ms':>10}{'photos/s':>10}")
    for name, r in rows:
        print(f"{name:<22}{r['prepare']:>11.1f}{r['score']:>12.1f}{r['total']:>10.1f}{r['rate']:>10.1f}")
    print()
    bench_faces()


if __name__ == "__main__":
    main()
