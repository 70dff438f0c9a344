"""``models add`` streams: the same bytes as before, in bounded memory, and a disk that is too small is refused
up front or, filling up half-way, leaves nothing behind.

Checkpoints in the authors' layout are made by ``bench/real_shape_checkpoint.py`` (InternVL3 config keys,
random weights, sharded safetensors), the generator the real-shape bench uses at full size.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from artimuse_desktop.cli import main
from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.artimuse import store
from artimuse_desktop.scoring.artimuse.convert import checkpoint as conversion
from artimuse_desktop.scoring.artimuse.convert import safetensors_io
from artimuse_desktop.scoring.artimuse.convert.config_mapping import native_config_from_original
from artimuse_desktop.scoring.artimuse.convert.safetensors_io import TensorRef
from artimuse_desktop.scoring.artimuse.convert.tensor_mapping import map_original_tensors, validate_tensors
from bench import real_shape_checkpoint as real_shape
from tests.disks import small_tmpfs

from .conftest import FIXTURE_DIR, _require_fixture

# sha256 of the converted fixture as the conversion before streaming wrote it (one shard; and 3 shards of
# 300 kB): installed models keep their checksum, hence their model version and their scores.
FIXTURE_CHECKSUM = "a8986ac87f6646dbe462e7c5c464d078ac3d266aa0863236544b5bf8c72cc133"
FIXTURE_CHECKSUM_3_SHARDS = "a94aa86f144c79cececc49c8e8487cb2bc31c92ebef35468112b208bb30cc39f"


@pytest.fixture(autouse=True)
def _fixture() -> None:
    _require_fixture()


def sharded_copy(folder: Path, max_shard_bytes: int = 300_000) -> Path:
    """The fixture in its original layout, re-sharded with an index, as the Hub's checkpoints are."""
    folder.mkdir(parents=True)
    raw = safetensors_io.read_tensors([FIXTURE_DIR / "model.safetensors"])
    safetensors_io.write_shards(sorted(raw.items()), folder, max_shard_bytes=max_shard_bytes)
    for path in FIXTURE_DIR.iterdir():
        if path.is_file() and not path.name.startswith("model"):
            shutil.copyfile(path, folder / path.name)
    return folder


def test_the_streamed_conversion_writes_the_same_bytes_as_before(tmp_path: Path) -> None:
    single = conversion.convert_checkpoint(FIXTURE_DIR, tmp_path / "one")
    assert single.checksum == FIXTURE_CHECKSUM and single.shards == 1
    assert safetensors_io.sha256_of_shards(tmp_path / "one") == FIXTURE_CHECKSUM
    three = conversion.convert_checkpoint(FIXTURE_DIR, tmp_path / "three", max_shard_bytes=300_000)
    assert three.checksum == FIXTURE_CHECKSUM_3_SHARDS and three.shards == 3
    index = json.loads((tmp_path / "three" / "model.safetensors.index.json").read_text(encoding="utf-8"))
    assert set(index["weight_map"].values()) == {f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)}
    # A sharded original converts to exactly the model the single file does.
    source = sharded_copy(tmp_path / "sharded-original")
    assert len(list(source.glob("*.safetensors"))) > 1
    assert conversion.convert_checkpoint(source, tmp_path / "from-shards").checksum == FIXTURE_CHECKSUM


def test_each_converted_tensor_holds_the_source_values(tmp_path: Path) -> None:
    """Read back with the safetensors library itself: renamed tensors equal, q/k/v the thirds of qkv."""
    torch = pytest.importorskip("torch")
    from safetensors import safe_open

    source = tmp_path / "original"
    real_shape.write_checkpoint(source, "tiny", shard_bytes=200_000, seed=3)
    assert (source / "model.safetensors.index.json").is_file()
    conversion.convert_checkpoint(source, tmp_path / "native", max_shard_bytes=150_000)
    index = json.loads((tmp_path / "native" / "model.safetensors.index.json").read_text(encoding="utf-8"))

    def tensors(folder: Path, files: set[str]) -> dict[str, object]:
        found: dict[str, object] = {}
        for name in sorted(files):
            with safe_open(str(folder / name), framework="pt") as handle:
                found.update({key: handle.get_tensor(key) for key in handle.keys()})  # noqa: SIM118
        return found

    original_index = json.loads((source / "model.safetensors.index.json").read_text(encoding="utf-8"))
    original = tensors(source, set(original_index["weight_map"].values()))
    native = tensors(tmp_path / "native", set(index["weight_map"].values()))
    assert len(native) == len(original) + 2 * 2 * 2  # per vision layer, qkv weight and bias become three each
    qkv = original["vision_model.encoder.layers.1.attn.qkv.weight"]
    q, k, v = (native[f"model.vision_tower.encoder.layer.1.attention.{p}_proj.weight"] for p in "qkv")
    assert torch.equal(torch.cat([q, k, v]), qkv)  # type: ignore[list-item]
    assert torch.equal(
        native["model.language_model.layers.0.mlp.down_proj.weight"],  # type: ignore[arg-type]
        original["language_model.model.layers.0.mlp.down_proj.weight"],  # type: ignore[arg-type]
    )
    assert torch.equal(native["lm_head.weight"], original["language_model.lm_head.weight"])  # type: ignore[arg-type]
    assert next(iter(native.values())).dtype == torch.bfloat16  # type: ignore[attr-defined]


def test_the_generator_writes_a_valid_internvl3_8b_layout() -> None:
    """The full-size layout passes the conversion's own checks, without writing 16 GB."""
    config = real_shape.original_config("8b")
    specs = real_shape.tensor_specs(config)
    refs: dict[str, TensorRef] = {}
    offset = 0
    for name, shape in specs:
        size = 2 * math.prod(shape)
        refs[name] = TensorRef(Path("model.safetensors"), "BF16", shape, offset, offset + size)
        offset += size
    native = native_config_from_original(config, image_token_id=734)
    validate_tensors(map_original_tensors(refs), native, Path("8b"))
    parameters = sum(math.prod(shape) for _, shape in specs)
    assert 7.9e9 < parameters < 8.0e9 and real_shape.checkpoint_bytes(config) == 2 * parameters
    assert native["text_config"]["vocab_size"] == 151674 and native["text_config"]["num_key_value_heads"] == 4


def test_models_add_keeps_its_memory_bounded(tmp_path: Path) -> None:
    """Peak RSS of ``models add`` on a 300 MB sharded checkpoint (real vocabulary) stays far below its size."""
    shape = {
        "vision": {"hidden_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 1024},
        "llm": {
            "hidden_size": 896,
            "num_hidden_layers": 2,
            "num_attention_heads": 14,
            "num_key_value_heads": 2,
            "intermediate_size": 4864,
            "vocab_size": 151674,
        },
    }
    info = real_shape.write_checkpoint(tmp_path / "original", shape, shard_bytes=100 * 1024**2)
    assert info["shards"] >= 3 and info["weights_bytes"] > 300e6
    measured = real_shape.measure_add(tmp_path / "original", tmp_path / "store")
    assert measured["returncode"] == 0, measured["output_tail"]
    assert measured["add_peak_rss_gb"] < 0.12, measured  # Python and the app's modules, one 16 MB buffer


def test_too_little_disk_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "models"
    root.mkdir()
    monkeypatch.setenv("ARTIMUSE_MODELS_DIR", str(root))
    checkpoint = conversion.inspect_checkpoint(FIXTURE_DIR)
    needed = conversion.disk_bytes_needed(checkpoint)
    assert needed > checkpoint.weights_bytes + conversion.DISK_MARGIN_BYTES
    real = shutil.disk_usage

    def short(path: str | Path) -> object:
        usage = real(path)
        return type(usage)(usage.total, usage.total - 10**6, 10**6)  # 1 MB free

    monkeypatch.setattr(shutil, "disk_usage", short)
    assert main(["models", "add", str(FIXTURE_DIR), "--name", "tiny"]) == 2
    err = capsys.readouterr().err
    assert f"{root}: not enough free disk space" in err
    assert f"needs {needed / 1e6:.1f} MB" in err and "1.0 MB free" in err and "nothing was written" in err
    assert list(root.iterdir()) == []  # no staging folder, no manifest


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 80 MiB tmpfs: room for the fixture and the free-space margin, until another program fills it."""
    with small_tmpfs(tmp_path / "small-disk", "80m") as folder:
        yield folder


def test_a_disk_that_fills_up_half_way_leaves_nothing_behind(small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIMUSE_MODELS_DIR", str(small_disk / "models"))
    filler = small_disk / "another-program.bin"

    def fill_the_disk(done: int, total: int) -> None:
        if not filler.exists():  # after the first tensor: someone else takes all the space
            with filler.open("wb", buffering=0) as out:
                while True:
                    try:
                        out.write(b"\0" * 1024**2)
                    except OSError:
                        break

    with pytest.raises(ModelError) as info:
        store.add_model(sharded_copy(small_disk / "original"), name="tiny", progress=fill_the_disk)
    assert "the disk filled up while converting" in info.value.message
    assert str(small_disk / "models") in info.value.message
    assert list((small_disk / "models").iterdir()) == []  # the staging folder is gone
    assert store.list_models() == []
    filler.unlink()
    entry = store.add_model(small_disk / "original", name="tiny")
    assert entry.checksum == FIXTURE_CHECKSUM


@pytest.mark.model
def test_a_generated_checkpoint_installs_loads_and_scores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the real-shape bench does at 8B, at the fixture's size: add, load in bfloat16, score a photo."""
    pytest.importorskip("transformers")
    from artimuse_desktop.scoring.registry import create_backend
    from artimuse_desktop.scoring.types import PhotoInput

    monkeypatch.setenv("ARTIMUSE_MODELS_DIR", str(tmp_path / "store"))
    real_shape.write_checkpoint(tmp_path / "original", "tiny", shard_bytes=300_000)
    store.add_model(tmp_path / "original", name="generated")
    backend = create_backend("artimuse:generated")
    backend.load("cpu", dtype="bfloat16")  # type: ignore[call-arg]
    try:
        photo = PhotoInput(photo_id=1, path=str(FIXTURE_DIR / "images" / "gradient_640x480.png"), fingerprint="g")
        (result,) = backend.score_batch([backend.prepare(photo)])
        assert 0.0 <= result.score <= 100.0
    finally:
        backend.unload()
