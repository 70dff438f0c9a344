"""An InternVL3-8B-shaped checkpoint in the authors' original layout, with random weights, written to disk.

Used by the real-shape benches (``bench_artimuse_real_shape.py``) and the streaming-conversion checks: it is
what ``models add`` gets from the Hub, at full size, without downloading 16 GB. The config is the fixture's
``config.json`` (the key layout of released InternVL3 checkpoints: ``InternVLChatConfig`` with nested
``vision_config`` and ``llm_config``) with the sizes of ArtiMuse (InternViT-300M: 24 layers, width 1024;
Qwen2.5-7B: 28 layers, hidden 3584, 28 heads, 4 KV heads, MLP 18944, vocabulary 151,674). The tokenizer is the
fixture's (723-token BPE): prompts come out about as long as with the real one (588 tokens with the image).

Weights are written tensor by tensor, in chunks, straight into sharded safetensors files (never a whole shard
in memory), from a pool of normal values (std 0.02) drawn once: writing 16 GB is disk-bound, not RNG-bound.
Norm weights are 1, norm biases 0, layer scales 0.1, so a forward pass stays finite in bfloat16.

Usage:
  python bench/real_shape_checkpoint.py OUT                      # the full 8B shape (about 15.9 GB)
  python bench/real_shape_checkpoint.py OUT --llm-layers 4 --vision-layers 4   # same widths, about 4 GB
  python bench/real_shape_checkpoint.py OUT --add STORE          # then `models add` it, peak RSS reported
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(os.environ.get("ARTIMUSE_TINY_FIXTURE", str(ROOT.parent / "shared" / "fixtures" / "artimuse-tiny")))
TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json")

SHAPES: dict[str, dict[str, dict[str, int]]] = {
    # InternVL3-8B: InternViT-300M-448px-V2.5 + Qwen2.5-7B, as in ArtiMuse's config.json.
    "8b": {
        "vision": {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096},
        "llm": {
            "hidden_size": 3584,
            "num_hidden_layers": 28,
            "num_attention_heads": 28,
            "num_key_value_heads": 4,
            "intermediate_size": 18944,
            "vocab_size": 151674,
        },
    },
    # The fixture's dimensions: the same code in a second.
    "tiny": {
        "vision": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 256},
        "llm": {
            "hidden_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "intermediate_size": 176,
            "vocab_size": 735,
        },
    },
}
DTYPES = {"bfloat16": ("BF16", 2), "float16": ("F16", 2), "float32": ("F32", 4)}
POOL_VALUES = 1 << 23  # 8M values drawn once (16 MB in bf16), reused at shifting offsets
CHUNK_VALUES = 1 << 24  # at most 16M values (32 MB in bf16) in memory per write


Shape = str | dict[str, dict[str, int]]


def original_config(
    shape: Shape = "8b", llm_layers: int | None = None, vision_layers: int | None = None, fixture: Path = FIXTURE
) -> dict[str, Any]:
    """The fixture's ``config.json`` (InternVL3 key layout) with the sizes of ``shape``: a name in ``SHAPES``
    or a dict like them (``{"vision": {...}, "llm": {...}}``; keys left out keep the fixture's values)."""
    config: dict[str, Any] = json.loads((fixture / "config.json").read_text(encoding="utf-8"))
    dims = copy.deepcopy(SHAPES[shape] if isinstance(shape, str) else {"vision": {}, "llm": {}, **shape})
    if llm_layers is not None:
        dims["llm"]["num_hidden_layers"] = llm_layers
    if vision_layers is not None:
        dims["vision"]["num_hidden_layers"] = vision_layers
    config["vision_config"].update(dims["vision"])
    config["llm_config"].update(dims["llm"])
    config["llm_config"]["max_window_layers"] = config["llm_config"]["num_hidden_layers"]
    config["hidden_size"] = config["llm_config"]["hidden_size"]
    return config


def tensor_specs(config: dict[str, Any]) -> list[tuple[str, tuple[int, ...]]]:
    """Every tensor of the authors' ``InternVLChatModel`` in load order (vision, projector, LLM)."""
    v, t = config["vision_config"], config["llm_config"]
    h, vi = int(v["hidden_size"]), int(v["intermediate_size"])
    patch, image = int(v["patch_size"]), int(v["image_size"])
    specs: list[tuple[str, tuple[int, ...]]] = [
        ("vision_model.embeddings.class_embedding", (1, 1, h)),
        ("vision_model.embeddings.position_embedding", (1, (image // patch) ** 2 + 1, h)),
        ("vision_model.embeddings.patch_embedding.weight", (h, int(v.get("num_channels", 3)), patch, patch)),
        ("vision_model.embeddings.patch_embedding.bias", (h,)),
    ]
    for i in range(int(v["num_hidden_layers"])):
        p = f"vision_model.encoder.layers.{i}."
        specs += [
            (p + "attn.qkv.weight", (3 * h, h)),
            (p + "attn.qkv.bias", (3 * h,)),
            (p + "attn.proj.weight", (h, h)),
            (p + "attn.proj.bias", (h,)),
            (p + "mlp.fc1.weight", (vi, h)),
            (p + "mlp.fc1.bias", (vi,)),
            (p + "mlp.fc2.weight", (h, vi)),
            (p + "mlp.fc2.bias", (h,)),
            (p + "norm1.weight", (h,)),
            (p + "norm1.bias", (h,)),
            (p + "norm2.weight", (h,)),
            (p + "norm2.bias", (h,)),
            (p + "ls1", (h,)),
            (p + "ls2", (h,)),
        ]
    big, ti, vocab = int(t["hidden_size"]), int(t["intermediate_size"]), int(t["vocab_size"])
    heads, kv = int(t["num_attention_heads"]), int(t["num_key_value_heads"])
    head_dim, shuffled = big // heads, h * round(1 / float(config.get("downsample_ratio", 0.5))) ** 2
    specs += [
        ("mlp1.0.weight", (shuffled,)),
        ("mlp1.0.bias", (shuffled,)),
        ("mlp1.1.weight", (big, shuffled)),
        ("mlp1.1.bias", (big,)),
        ("mlp1.3.weight", (big, big)),
        ("mlp1.3.bias", (big,)),
        ("language_model.model.embed_tokens.weight", (vocab, big)),
    ]
    for i in range(int(t["num_hidden_layers"])):
        p = f"language_model.model.layers.{i}."
        specs += [
            (p + "self_attn.q_proj.weight", (heads * head_dim, big)),
            (p + "self_attn.q_proj.bias", (heads * head_dim,)),
            (p + "self_attn.k_proj.weight", (kv * head_dim, big)),
            (p + "self_attn.k_proj.bias", (kv * head_dim,)),
            (p + "self_attn.v_proj.weight", (kv * head_dim, big)),
            (p + "self_attn.v_proj.bias", (kv * head_dim,)),
            (p + "self_attn.o_proj.weight", (big, heads * head_dim)),
            (p + "mlp.gate_proj.weight", (ti, big)),
            (p + "mlp.up_proj.weight", (ti, big)),
            (p + "mlp.down_proj.weight", (big, ti)),
            (p + "input_layernorm.weight", (big,)),
            (p + "post_attention_layernorm.weight", (big,)),
        ]
    specs += [("language_model.model.norm.weight", (big,)), ("language_model.lm_head.weight", (vocab, big))]
    return specs


def checkpoint_bytes(config: dict[str, Any], dtype: str = "bfloat16") -> int:
    """Bytes of weights the checkpoint holds (for a free-disk check before writing it)."""
    return sum(math.prod(shape) for _, shape in tensor_specs(config)) * DTYPES[dtype][1]


def _constant(name: str) -> float | None:
    """Norm weights 1, norm biases 0, layer scales 0.1; None: a random tensor."""
    if name.endswith(("ls1", "ls2")):
        return 0.1
    norm = ("norm1.", "norm2.", "layernorm.", "mlp1.0.", ".norm.")
    if any(part in name for part in norm):
        return 1.0 if name.endswith("weight") else 0.0
    return None


def _encode(values: np.ndarray, dtype: str) -> bytes:
    """float32 values as the little-endian bytes of ``dtype`` (bf16: the upper half, rounded to nearest)."""
    if dtype == "float32":
        return values.astype("<f4").tobytes()
    if dtype == "float16":
        return values.astype("<f2").tobytes()
    bits = values.astype("<f4").view("<u4")
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2").tobytes()


def _chunks(name: str, count: int, pool: bytes, dtype: str, index: int) -> Iterator[bytes]:
    """The bytes of one tensor, at most ``CHUNK_VALUES`` values at a time."""
    size = DTYPES[dtype][1]
    value = _constant(name)
    done = 0
    offset = (index * 7919) % POOL_VALUES  # a different window of the pool for each tensor
    while done < count:
        n = min(CHUNK_VALUES, count - done)
        if value is not None:
            yield _encode(np.full(n, value, dtype=np.float32), dtype)
        else:
            parts, left = [], n
            while left:
                take = min(left, POOL_VALUES - offset)
                parts.append(pool[offset * size : (offset + take) * size])
                offset = (offset + take) % POOL_VALUES
                left -= take
            yield b"".join(parts)
        done += n


def _plan(specs: list[tuple[str, tuple[int, ...]]], size: int, shard_bytes: int) -> list[list[tuple[str, tuple]]]:
    shards: list[list[tuple[str, tuple]]] = [[]]
    used = 0
    for name, shape in specs:
        nbytes = math.prod(shape) * size
        if shards[-1] and used + nbytes > shard_bytes:
            shards.append([])
            used = 0
        shards[-1].append((name, shape))
        used += nbytes
    return shards


def write_checkpoint(
    folder: str | Path,
    shape: Shape = "8b",
    *,
    llm_layers: int | None = None,
    vision_layers: int | None = None,
    dtype: str = "bfloat16",
    shard_bytes: int = 4 * 1024**3,
    seed: int = 0,
    fixture: Path = FIXTURE,
) -> dict[str, Any]:
    """Write the checkpoint into ``folder`` (created, must be empty); returns its config, files and sizes."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise SystemExit(f"{folder}: not empty")
    config = original_config(shape, llm_layers, vision_layers, fixture)
    config["torch_dtype"] = config["llm_config"]["torch_dtype"] = dtype
    specs = tensor_specs(config)
    code, size = DTYPES[dtype]
    rng = np.random.default_rng(seed)
    pool = _encode(rng.standard_normal(POOL_VALUES, dtype=np.float32) * np.float32(0.02), dtype)
    groups = _plan(specs, size, shard_bytes)
    weight_map: dict[str, str] = {}
    index = 0
    for number, group in enumerate(groups, start=1):
        name = "model.safetensors" if len(groups) == 1 else f"model-{number:05d}-of-{len(groups):05d}.safetensors"
        header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
        offset = 0
        for tensor, tshape in group:
            nbytes = math.prod(tshape) * size
            header[tensor] = {"dtype": code, "shape": list(tshape), "data_offsets": [offset, offset + nbytes]}
            offset += nbytes
            weight_map[tensor] = name
        raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
        raw += b" " * (-len(raw) % 8)
        with (folder / name).open("wb") as out:
            out.write(struct.pack("<Q", len(raw)) + raw)
            for tensor, tshape in group:
                for chunk in _chunks(tensor, math.prod(tshape), pool, dtype, index):
                    out.write(chunk)
                index += 1
    total = sum(math.prod(s) for _, s in specs) * size
    if len(groups) > 1:
        index_json = {"metadata": {"total_size": total}, "weight_map": weight_map}
        (folder / "model.safetensors.index.json").write_text(json.dumps(index_json, indent=2), encoding="utf-8")
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    for file in (*TOKENIZER_FILES, "generation_config.json"):
        if (fixture / file).is_file():
            shutil.copyfile(fixture / file, folder / file)
    return {
        "folder": str(folder),
        "shards": len(groups),
        "weights_bytes": total,
        "num_parameters": sum(math.prod(s) for _, s in specs),
        "config": config,
    }


_PEAK_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], check=False).returncode\n"
    "print('PEAK_RSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def measure_add(folder: str | Path, store: str | Path, name: str = "real-shape") -> dict[str, Any]:
    """``artimuse-desktop models add FOLDER`` in a child process: seconds, peak RSS (GB) and exit status.

    The command runs under a fresh wrapper process, so its peak is its own whatever ran before in this one.
    """
    env = dict(os.environ, ARTIMUSE_MODELS_DIR=str(store))
    command = [sys.executable, "-m", "artimuse_desktop", "models", "add", str(folder), "--name", name]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_WRAPPER, *command], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    lines = [line for line in done.stderr.splitlines() if line.startswith("PEAK_RSS ")]
    peak = int(lines[-1].split()[1]) if lines else 0
    peak_bytes = peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, kilobytes on Linux
    return {
        "add_s": round(seconds, 1),
        "add_peak_rss_gb": round(peak_bytes / 1e9, 3),
        "returncode": done.returncode,
        "output_tail": (done.stdout + done.stderr)[-2000:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="where to write the checkpoint (created, must be empty)")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="8b")
    parser.add_argument("--llm-layers", type=int, help="fewer Qwen2 layers than the shape has (same widths)")
    parser.add_argument("--vision-layers", type=int, help="fewer InternViT layers than the shape has")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="bfloat16")
    parser.add_argument("--shard-gb", type=float, default=4.0, help="largest shard, GiB (default 4)")
    parser.add_argument("--add", type=Path, metavar="STORE", help="then `models add` it into this model store")
    args = parser.parse_args()
    config = original_config(args.shape, args.llm_layers, args.vision_layers)
    needed = checkpoint_bytes(config, args.dtype)
    args.folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(args.folder).free
    if free < needed * (2 if args.add else 1) + 2**30:
        print(f"{args.folder}: needs {needed / 1e9:.1f} GB (twice with --add), {free / 1e9:.1f} GB free")
        return 1
    started = time.perf_counter()
    info = write_checkpoint(
        args.folder,
        args.shape,
        llm_layers=args.llm_layers,
        vision_layers=args.vision_layers,
        dtype=args.dtype,
        shard_bytes=int(args.shard_gb * 1024**3),
    )
    result: dict[str, Any] = {
        "write_s": round(time.perf_counter() - started, 1),
        "shards": info["shards"],
        "weights_gb": round(info["weights_bytes"] / 1e9, 2),
        "num_parameters": info["num_parameters"],
    }
    if args.add:
        result.update(measure_add(args.folder, args.add))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
