"""Start-up benchmarks: what every process pays before it does anything, against ``python -c pass``.

    python bench/bench_startup.py [--runs 9] [--photos 2000] [--cache-files 20000] [--importtime] [--json out.json]

Each measure is a fresh subprocess, run ``--runs`` times interleaved with ``python -c pass`` (so a busy machine
slows both alike) and reported as the median and its ratio to the median ``python -c pass``, in wall time and
in CPU time (user + system of the child, which other work on a shared machine disturbs less):

- ``help``: ``artimuse-desktop --help`` (target: at most 4x ``python -c pass``); ``list-help``: ``list --help``;
- ``open``: open a current catalog for reading (no alembic, no ORM models imported);
- ``list``: ``artimuse-desktop list --limit 20`` on a current ``--photos`` catalog (this one needs the models);
- ``phash``: the indexer's first perceptual hash in a process (``analyse._phash`` on a decoded grid image;
  ``first_hash_s`` is its time over ``phash-base``, which decodes and imports the same but does not hash:
  no scipy); ``phash-imagehash`` hashes with ``imagehash.phash`` instead, for comparison, when installed;
- ``prune``: in-process, the prune that follows an index run that added one thumbnail to a cache of
  ``--cache-files`` files (what changed, not the cache's size).

``--importtime`` adds ``python -X importtime``'s top entries (cumulative) for ``--help`` and for ``list``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HELP_TARGET_RATIO = 4.0
HEAVY = ("sqlalchemy", "alembic", "scipy", "PySide6", "torch", "numpy", "PIL", "imagehash")

_OPEN = """
import sys, time
started = time.perf_counter()
from artimuse_desktop.catalog.db import open_catalog_for_reading
with open_catalog_for_reading(sys.argv[1]) as catalog:
    revision = catalog.schema_revision
"""

_PHASH_BASE = """
import sys
from PIL import Image
image = Image.open(sys.argv[1]); image.load()
from artimuse_desktop.library import analyse
"""

_PHASH = _PHASH_BASE + "print(analyse._phash(image))\n"


_PHASH_IMAGEHASH = _PHASH_BASE + "import imagehash\nprint(str(imagehash.phash(image)))\n"


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ARTIMUSE_HOME": str(home),
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("artimuse-desktop")
    return [str(script)] if script.exists() else [sys.executable, "-m", "artimuse_desktop"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _seconds(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run; CPU (user + system) varies less on a machine other work shares."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, _children_cpu() - cpu


def _loaded(code: str, argv: list[str], env: dict[str, str]) -> list[str]:
    """The heavy top-level packages in ``sys.modules`` after ``code`` ran."""
    probe = code + (
        "\nimport sys\ntops = {m.split('.')[0] for m in sys.modules}\n"
        "print(' '.join(sorted(tops & set(sys.argv[-1].split(',')))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv, ",".join(HEAVY)], capture_output=True, text=True, env=env, timeout=120
    )
    if done.returncode != 0:
        raise SystemExit(f"probe failed:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1].split() if done.stdout.strip() else []


def make_catalog(path: Path, photos: int) -> None:
    from artimuse_desktop.catalog.db import open_catalog
    from tests.demo_library import bulk_catalog

    catalog = open_catalog(path)
    bulk_catalog(catalog, photos)
    catalog.close()


def make_image(path: Path) -> None:
    from tests.images import photo_like

    photo_like(320, 213, seed=3).save(path, "JPEG", quality=85)


def bench_processes(work: Path, runs: int, photos: int) -> dict[str, Any]:
    env = _env(work / "home")
    catalog = work / "catalog.sqlite"
    image = work / "grid.jpg"
    make_catalog(catalog, photos)
    make_image(image)
    cli = _cli()
    commands: dict[str, list[str]] = {
        "pass": [sys.executable, "-c", "pass"],
        "help": [*cli, "--help"],
        "list-help": [*cli, "list", "--help"],
        "open": [sys.executable, "-c", _OPEN, str(catalog)],
        "list": [*cli, "--catalog", str(catalog), "list", "--limit", "20", "--sort", "-score"],
        "phash-base": [sys.executable, "-c", _PHASH_BASE, str(image)],
        "phash": [sys.executable, "-c", _PHASH, str(image)],
    }
    try:
        import imagehash  # noqa: F401

        commands["phash-imagehash"] = [sys.executable, "-c", _PHASH_IMAGEHASH, str(image)]
    except ImportError:
        pass
    for command in commands.values():  # warm the page cache and .pyc files
        _seconds(command, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            wall, used = _seconds(command, env)
            times[name].append(wall)
            cpu[name].append(used)
    base, base_cpu = statistics.median(times["pass"]), statistics.median(cpu["pass"])
    results: dict[str, Any] = {
        "runs": runs,
        "photos": photos,
        "python_c_pass_s": base,
        "python_c_pass_cpu_s": base_cpu,
        "measures": {},
    }
    for name, values in times.items():
        median, median_cpu = statistics.median(values), statistics.median(cpu[name])
        results["measures"][name] = {
            "median_s": median,
            "min_s": min(values),
            "ratio_to_python_c_pass": median / base,
            "cpu_median_s": median_cpu,
            "cpu_ratio_to_python_c_pass": median_cpu / base_cpu,
        }
    if "phash-base" in times:
        image_base = statistics.median(cpu["phash-base"])
        for name in ("phash", "phash-imagehash"):
            if name in times:
                results["measures"][name]["first_hash_cpu_s"] = statistics.median(cpu[name]) - image_base
    results["help_target_ratio"] = HELP_TARGET_RATIO
    results["loaded"] = {
        "help": _loaded(
            "import contextlib, io\nfrom artimuse_desktop.cli import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])",
            [],
            env,
        ),
        "open": _loaded(_OPEN, [str(catalog)], env),
        "phash": _loaded(_PHASH, [str(image)], env),
    }
    return results


_CLI_MAIN = "from artimuse_desktop.cli import main; raise SystemExit(main())"


def importtime(command_args: list[str], env: dict[str, str], top: int) -> list[tuple[str, float]]:
    """The ``top`` imports by cumulative time (ms), from ``python -X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _CLI_MAIN, *command_args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    rows: list[tuple[str, float]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, _, cumulative, name = (part.strip() for part in line.replace("import time:", "|", 1).split("|"))
        rows.append((name, int(cumulative) / 1000))
    rows.sort(key=lambda row: -row[1])
    return rows[:top]


def bench_prune(work: Path, files: int) -> dict[str, Any]:
    """The prune after adding one thumbnail to a cache of ``files`` files (a prune has run once before)."""
    from PIL import Image

    from artimuse_desktop.imaging.thumbnails import ThumbnailCache

    cache = ThumbnailCache(work / "thumbs", max_bytes=10**12)
    image = Image.new("RGB", (8, 8), (90, 120, 150))
    first = cache.store("seed0000seed0000", "grid", image)
    data = first.read_bytes()
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-"
    for number in range(files):  # plain copies: what an older version or an earlier run left
        key = f"f{number:015d}{alphabet[number % 64]}{alphabet[(number // 64) % 64]}"
        path = cache.path_for(key, "grid")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    started = time.perf_counter()
    cache.prune()
    first_prune = time.perf_counter() - started
    times = []
    for number in range(5):
        cache.store(f"new{number:013d}aa", "grid", image)
        started = time.perf_counter()
        cache.prune()
        times.append(time.perf_counter() - started)
    return {"cache_files": files, "first_prune_s": first_prune, "prune_after_one_new_s": statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--cache-files", type=int, default=20000)
    parser.add_argument("--importtime", action="store_true")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="artimuse-bench-startup-") as folder:
        work = Path(folder)
        results = bench_processes(work, args.runs, args.photos)
        print(
            f"python -c pass: {results['python_c_pass_s'] * 1000:.0f} ms wall, "
            f"{results['python_c_pass_cpu_s'] * 1000:.0f} ms CPU (medians of {args.runs})"
        )
        print(f"{'':16s} {'wall':>8s} {'ratio':>6s} {'CPU':>8s} {'ratio':>6s}")
        for name, row in results["measures"].items():
            extra = f"  first hash {row['first_hash_cpu_s'] * 1000:.0f} ms CPU" if "first_hash_cpu_s" in row else ""
            print(
                f"{name:16s} {row['median_s'] * 1000:5.0f} ms {row['ratio_to_python_c_pass']:5.1f}x "
                f"{row['cpu_median_s'] * 1000:5.0f} ms {row['cpu_ratio_to_python_c_pass']:5.1f}x{extra}"
            )
        print(f"target: --help at most {HELP_TARGET_RATIO:.0f}x python -c pass")
        for name, loaded in results["loaded"].items():
            print(f"heavy packages after {name}: {', '.join(loaded) or 'none'}")
        if args.importtime:
            env = _env(work / "home")
            results["importtime"] = {}
            for label, command_args in (
                ("help", ["--help"]),
                ("list", ["--catalog", str(work / "catalog.sqlite"), "list", "--limit", "20"]),
            ):
                rows = importtime(command_args, env, args.top)
                results["importtime"][label] = rows
                print(f"\npython -X importtime, {label} (cumulative ms):")
                for module, ms in rows:
                    print(f"  {ms:7.1f}  {module}")
        if args.cache_files:
            results["prune"] = bench_prune(work, args.cache_files)
            prune = results["prune"]
            print(
                f"\nprune, {prune['cache_files']} cached files: first {prune['first_prune_s'] * 1000:.0f} ms, "
                f"after one new thumbnail {prune['prune_after_one_new_s'] * 1000:.1f} ms"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
