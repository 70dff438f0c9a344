"""ArtiMuse at its real shape, through the app's own code: `models add`, load, score and critique real photos.

Usage:
  python bench/bench_artimuse_real_shape.py --device cpu --dtype bfloat16 --photos 8 --json
  python bench/bench_artimuse_real_shape.py --dtype 8bit --workdir /var/tmp/rs     # keep the 16 GB checkpoint
  python bench/bench_artimuse_real_shape.py --dtype 4bit --workdir /var/tmp/rs --reference rs-float32.json
  python bench/bench_artimuse_real_shape.py --layers 2 --dtype float32 --json      # real widths, 2 layers deep

It writes an InternVL3-8B-shaped checkpoint (``bench/real_shape_checkpoint.py``: the authors' original layout,
real layer counts, widths, heads, vocabulary 151,674 and config keys, random weights, sharded bfloat16
safetensors) into a temporary folder (``--workdir`` keeps and reuses it: writing 16 GB takes minutes), then:

* ``models add`` in a child process (``add_s``, ``add_peak_rss_gb``: that process's own peak RSS);
* loads it with ``ArtiMuseBackend`` as the app does (``load_s``), ``--dtype`` 8bit/4bit meaning ``--quantize``
  (on a CPU ``quantized_cache`` says whether the quantised layers were read from the model store's cache or
  quantised and ``written`` there: with ``--workdir`` a second run reads what the first wrote);
* scores ``--photos`` real-size JPEGs (6000x4000 by default) with ``prepare`` + ``score_batch``
  (``prepare_s_per_photo``: decode + preprocess; ``score_s_per_photo``: the model part) and the same pixels
  through a bare ``model(...)`` forward pass (``bare_forward_s_per_photo``, ``app_vs_bare``);
* critiques one fresh photo for all 8 attributes and another for one (``critique_prefill_s`` and
  ``critique_prefill_one_s``: time to the first token; ``critique_tokens_per_s``: the tokens after it);
* ``peak_rss_gb``: this process's peak RSS (the add ran in its own process).

``--dtype float32`` where a float32 load would not fit computes in float32 over the mapped bf16 weights, one
block widened at a time (``float32_blocks.py``; ``float32_mode`` in the JSON line): the same arithmetic as a
float32 load of this bf16 checkpoint, in bf16's memory. Scores go into the JSON line; ``--reference`` (an
earlier run's JSON, e.g. float32) adds their drift. Free disk and memory are checked first: the bench says what
it needs and refuses when short.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PRECISIONS = ("float32", "bfloat16", "float16", "8bit", "4bit")
MODEL_NAME = "real-shape"


def _rss_gb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round((peak if sys.platform == "darwin" else peak * 1024) / 1e9, 3)


def _available_memory() -> int | None:
    from artimuse_desktop.scoring.artimuse.devices import free_bytes

    return free_bytes("cpu")


def check_resources(args: argparse.Namespace, config: dict[str, Any], work: Path, reuse: bool) -> str | None:
    """What is missing (disk for the checkpoint and its converted copy, memory for the model), or None."""
    from real_shape_checkpoint import checkpoint_bytes, tensor_specs

    from artimuse_desktop.scoring.artimuse.devices import estimate_bytes

    weights = checkpoint_bytes(config, "bfloat16")
    params = sum(_prod(shape) for _, shape in tensor_specs(config))
    disk_needed = 0 if reuse else 2 * weights + 2 * 10**9  # original + converted copy + photos
    work.mkdir(parents=True, exist_ok=True)
    disk_free = shutil.disk_usage(work).free
    precision = args.dtype
    memory_free = _available_memory()
    args.float32_blocks = args.float32_blocks or (
        precision == "float32"
        and args.device == "cpu"
        and memory_free is not None
        and memory_free < estimate_bytes(params, "float32")
    )
    if args.float32_blocks:  # float32 arithmetic over the mapped bf16 weights: bf16's memory
        precision = "bfloat16"
    memory_needed = estimate_bytes(params, precision) if args.device == "cpu" else 0
    problems = []
    if disk_free < disk_needed:
        problems.append(f"disk: needs {disk_needed / 1e9:.1f} GB in {work}, {disk_free / 1e9:.1f} GB free")
    if memory_free is not None and memory_free < memory_needed:
        problems.append(
            f"memory: {precision} needs about {memory_needed / 1e9:.1f} GB, {memory_free / 1e9:.1f} GB available"
        )
    return "; ".join(problems) or None


def _prod(shape: tuple[int, ...]) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


def prepare_model(args: argparse.Namespace, work: Path, config: dict[str, Any]) -> dict[str, Any]:
    """Write the checkpoint and `models add` it, or reuse both from ``work``; the add's figures."""
    from real_shape_checkpoint import measure_add, write_checkpoint

    checkpoint = work / f"checkpoint-{args.tag}"
    store_dir = work / f"store-{args.tag}"
    os.environ["ARTIMUSE_MODELS_DIR"] = str(store_dir)
    figures: dict[str, Any] = {}
    if not (checkpoint / ".complete").is_file():
        shutil.rmtree(checkpoint, ignore_errors=True)
        started = time.perf_counter()
        write_checkpoint(
            checkpoint,
            "8b",
            llm_layers=config["llm_config"]["num_hidden_layers"],
            vision_layers=config["vision_config"]["num_hidden_layers"],
            dtype="bfloat16",
            shard_bytes=int(args.shard_gb * 1024**3),
        )
        (checkpoint / ".complete").write_text("ok\n", encoding="utf-8")
        figures["write_s"] = round(time.perf_counter() - started, 1)
    if not (store_dir / MODEL_NAME / "artimuse.json").is_file():
        shutil.rmtree(store_dir, ignore_errors=True)
        added = measure_add(checkpoint, store_dir, MODEL_NAME)
        if added["returncode"] != 0:
            raise SystemExit(f"models add failed:\n{added['output_tail']}")
        figures.update(add_s=added["add_s"], add_peak_rss_gb=added["add_peak_rss_gb"])
    else:
        figures.update(add_s=None, add_peak_rss_gb=None, add_reused=True)
    return figures


def make_photos(folder: Path, count: int, size: tuple[int, int]) -> list[Path]:
    """``count`` distinct photo-like JPEGs at full camera size (each its own seed: no repeated prefix), drawn
    in a child process so their float arrays (about 1 GB at 24 MP) do not count in this one's peak RSS."""
    import subprocess

    paths = [folder / f"photo{i:03d}-{size[0]}x{size[1]}.jpg" for i in range(count)]
    todo = [(str(p), i) for i, p in enumerate(paths) if not p.is_file()]
    if todo:
        code = (
            "import json, sys\nfrom pathlib import Path\nfrom tests.images import write_jpeg\n"
            "for path, seed in json.loads(sys.argv[1]):\n"
            f"    write_jpeg(Path(path), {size[0]}, {size[1]}, seed=seed, quality=92)\n"
        )
        subprocess.run([sys.executable, "-c", code, json.dumps(todo)], cwd=ROOT, check=True)
    return paths


def score_figures(backend: Any, photos: list[Path], batch_size: int) -> dict[str, Any]:
    """App path (prepare + score_batch) against a bare forward pass of the same pixels, per photo."""
    import numpy as np
    import torch

    from artimuse_desktop.scoring.artimuse import prompts
    from artimuse_desktop.scoring.types import PhotoInput

    items = [PhotoInput(photo_id=i, path=str(p), fingerprint=f"f{i}") for i, p in enumerate(photos)]
    started = time.perf_counter()
    prepared = [backend.prepare(item) for item in items]
    prepare_s = (time.perf_counter() - started) / len(items)
    batches = [prepared[i : i + batch_size] for i in range(0, len(prepared), batch_size)]
    backend.score_batch(batches[0][:1])  # warm-up (kernels, allocator, tokenizer cache)
    lm = backend.loaded
    ids = torch.tensor([lm.encode(prompts.score_query(lm.spec.num_image_token, lm.spec.system_message))])
    bare_times, app_times, scores = [], [], []
    for batch in batches:  # interleaved, so drifts of the machine hit both sides alike
        started = time.perf_counter()
        results = backend.score_batch(batch)
        app_times.append(time.perf_counter() - started)
        scores += [r.score for r in results]
        pixels = torch.from_numpy(np.stack([p.pixel_values for p in batch])).to(lm.device, lm.compute_dtype)
        rows = ids.expand(len(batch), -1).to(lm.device)
        started = time.perf_counter()
        with torch.inference_mode():
            lm.model(input_ids=rows, attention_mask=torch.ones_like(rows), pixel_values=pixels, logits_to_keep=1)
        bare_times.append(time.perf_counter() - started)
    n = len(prepared)
    return {
        "prepare_s_per_photo": round(prepare_s, 3),
        "score_s_per_photo": round(sum(app_times) / n, 3),
        "bare_forward_s_per_photo": round(sum(bare_times) / n, 3),
        "app_vs_bare": round(sum(app_times) / sum(bare_times), 3),
        "scores": [round(float(s), 4) for s in scores],
    }


def critique_figures(backend: Any, photo_all: Path, photo_one: Path, tokens: int, repeats: int) -> dict[str, Any]:
    """8 critiques of one photo, then 1 critique of another (best of ``repeats``), timed by a hook on the model's
    forward (no prefix is kept between calls):
    prefill ends with the last call over more than one position, the calls after it decode one token a row."""
    from artimuse_desktop.scoring.artimuse import prompts
    from artimuse_desktop.scoring.types import PhotoInput

    backend.max_new_tokens = tokens
    lm = backend.loaded
    events: list[tuple[float, int, int]] = []  # (end time, positions, rows) of each forward call

    def hook(_module: Any, args: tuple[Any, ...], kwargs: dict[str, Any], _output: Any) -> None:
        x = kwargs.get("inputs_embeds")
        x = x if x is not None else kwargs.get("input_ids", args[0] if args else None)
        events.append((time.perf_counter(), int(x.shape[1]), int(x.shape[0])))

    def run(photo: Path, aspects: list[str]) -> tuple[float, float, int]:
        item = PhotoInput(photo_id=10_000, path=str(photo), fingerprint=photo.name)
        pixels = backend.prepare(item).pixel_values
        events.clear()
        started = time.perf_counter()
        output = critique.critique_image(lm, pixels, aspects, max_new_tokens=tokens)
        ended = time.perf_counter()
        prefill_calls = [i for i, e in enumerate(events) if e[1] > 1]
        last = prefill_calls[-1] if prefill_calls else -1
        prefill_end = events[last][0] if prefill_calls else ended
        decoded = sum(rows for _t, _n, rows in events[last + 1 :])
        speed = decoded / (ended - prefill_end) if decoded else 0.0
        return prefill_end - started, speed, output.num_tokens

    from artimuse_desktop.scoring.artimuse import critique

    handle = lm.model.register_forward_hook(hook, with_kwargs=True)
    alls, ones = [], []
    try:  # interleaved, best of ``repeats``: this shared machine's speed drifts by 20 % between runs
        for _ in range(repeats):
            alls.append(run(photo_all, list(prompts.ASPECTS)))
            ones.append(run(photo_one, list(prompts.ASPECTS)[:1]))
    finally:
        handle.remove()
    prefill_all, speed_all, count = min(alls, key=lambda r: r[0])
    prefill_one, speed_one, _ = min(ones, key=lambda r: r[0])
    speed_all, speed_one = max(r[1] for r in alls), max(r[1] for r in ones)
    return {
        "critique_prefill_s": round(prefill_all, 2),
        "critique_prefill_one_s": round(prefill_one, 2),
        "critique_prefill_ratio": round(prefill_all / prefill_one, 2) if prefill_one > 0 else None,
        "critique_tokens_per_s": round(speed_all, 3),
        "critique_one_tokens_per_s": round(speed_one, 3),
        "critique_tokens": count,
    }


def drift(scores: list[float], reference: Path) -> dict[str, Any]:
    ref = json.loads(reference.read_text(encoding="utf-8"))["scores"]
    n = min(len(ref), len(scores))
    diffs = [abs(a - b) for a, b in zip(scores[:n], ref[:n], strict=True)]
    return {
        "drift_vs": reference.name,
        "drift_max": round(max(diffs), 4),
        "drift_mean": round(statistics.mean(diffs), 4),
    }


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from real_shape_checkpoint import original_config

    config = original_config("8b", args.layers, args.vision_layers)
    reuse = (work / f"checkpoint-{args.tag}" / ".complete").is_file()
    problem = check_resources(args, config, work, reuse)
    if problem:
        raise SystemExit(f"not enough resources for {args.dtype} at this shape: {problem}")
    result: dict[str, Any] = {
        "device": args.device,
        "dtype": args.dtype,
        "llm_layers": config["llm_config"]["num_hidden_layers"],
        "vision_layers": config["vision_config"]["num_hidden_layers"],
    }
    result.update(prepare_model(args, work, config))
    photos = make_photos(work / "photos", args.photos + 2, args.size)
    from artimuse_desktop.scoring.registry import create_backend

    backend: Any = create_backend(f"artimuse:{MODEL_NAME}")
    quantize = args.dtype if args.dtype in ("8bit", "4bit") else None
    caches = backend.entry.path / ".quantized"  # the quantised layers, cached by the first quantised load
    cached_before = bool(quantize) and any(caches.glob(f"{quantize}-*.safetensors"))
    started = time.perf_counter()
    if args.float32_blocks:
        from float32_blocks import run_in_float32_blocks

        backend.load(args.device, dtype="bfloat16")
        inner = backend.loaded.model.model
        run_in_float32_blocks(backend.loaded.model, (inner.vision_tower, inner.multi_modal_projector))
        backend.loaded.dtype = __import__("torch").float32
        result["float32_mode"] = "blocks over the bf16 weights"
    else:
        backend.load(args.device, quantize=quantize, dtype=None if quantize else args.dtype)
    result["load_s"] = round(time.perf_counter() - started, 1)
    if quantize and args.device == "cpu":
        written = any(caches.glob(f"{quantize}-*.safetensors"))
        result["quantized_cache"] = "read" if cached_before else "written" if written else "none"
    result["load_rss_gb"] = _rss_gb()
    result["version"] = backend.version
    result["threads"] = __import__("torch").get_num_threads()
    result.update(score_figures(backend, photos[: args.photos], args.batch_size))
    if args.critique_tokens > 0:
        result.update(critique_figures(backend, photos[-2], photos[-1], args.critique_tokens, args.critique_repeats))
    result["peak_rss_gb"] = _rss_gb()
    if args.reference:
        result.update(drift(result["scores"], args.reference))
    backend.unload()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N, mps or auto")
    parser.add_argument("--dtype", choices=PRECISIONS, default="bfloat16", help="8bit/4bit: --quantize")
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--size", default="6000x4000", help="photo size WxH (default: 24 MP)")
    parser.add_argument("--batch-size", type=int, default=1, help="photos per score_batch (the pipeline's)")
    parser.add_argument("--critique-tokens", type=int, default=8, help="tokens per critique (0: no critique)")
    parser.add_argument("--critique-repeats", type=int, default=2, help="critique timings: best of N (default 2)")
    parser.add_argument("--layers", type=int, default=None, help="language-model layers (default: 28, the real)")
    parser.add_argument("--vision-layers", type=int, default=None, help="vision layers (default: 24, or --layers)")
    parser.add_argument("--shard-gb", type=float, default=4.0, help="largest shard of the checkpoint, GiB")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the checkpoint and store here, reuse them")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    parser.add_argument(
        "--float32-blocks",
        action="store_true",
        help="--dtype float32 over the bf16 weights, one block widened at a time (automatic when float32 won't fit)",
    )
    parser.add_argument("--reference", type=Path, default=None, help="an earlier run's JSON: report score drift")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON line here")
    args = parser.parse_args()
    args.size = tuple(int(v) for v in args.size.lower().split("x"))
    if args.vision_layers is None and args.layers is not None:
        args.vision_layers = min(args.layers, 24)
    args.tag = f"L{args.layers or 28}-V{args.vision_layers or 24}"
    if args.json:
        import logging

        logging.disable(logging.WARNING)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="artimuse-real-shape-"))
    try:
        result = run(args, work.resolve())
    finally:
        if args.workdir is None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif args.workdir is None:
            print(f"kept {work}", file=sys.stderr)
    line = json.dumps(result)
    if not args.json:
        print("\n".join(f"{k:26s}: {v}" for k, v in result.items() if k != "scores"))
    print(line)
    if args.out:
        args.out.write_text(line + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
