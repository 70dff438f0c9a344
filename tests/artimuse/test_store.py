"""Model store, conversion checks and the ``models`` command, none of which may need torch."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from artimuse_desktop.cli import main
from artimuse_desktop.errors import ModelError, ModelUnavailableError
from artimuse_desktop.scoring.artimuse import store
from artimuse_desktop.scoring.artimuse.convert import checkpoint as conversion
from artimuse_desktop.scoring.artimuse.convert import safetensors_io
from tests.artimuse.conftest import FIXTURE_DIR, MODEL_NAME

NON_WEIGHT_FILES = (
    "config.json",
    "vocab.json",
    "merges.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
)


def copy_fixture(dest: Path, weights: bool = True) -> Path:
    dest.mkdir(parents=True)
    for name in NON_WEIGHT_FILES:
        shutil.copyfile(FIXTURE_DIR / name, dest / name)
    if weights:
        shutil.copyfile(FIXTURE_DIR / "model.safetensors", dest / "model.safetensors")
    return dest


@pytest.fixture(autouse=True)
def _fixture_present() -> None:
    if not (FIXTURE_DIR / "model.safetensors").is_file():
        pytest.skip(f"the artimuse-tiny fixture is not at {FIXTURE_DIR}")


def test_models_add_registers_checksum_size_and_default(tiny_store: Path, use_tiny_store: Path) -> None:
    entries = store.list_models()
    assert [e.name for e in entries] == [MODEL_NAME]
    entry = entries[0]
    weights = tiny_store / MODEL_NAME / "model.safetensors"
    assert entry.checksum == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert entry.checksum == safetensors_io.sha256_of_shards(tiny_store / MODEL_NAME)
    assert entry.size == 823_040 and entry.num_parameters == 411_520
    assert entry.layout == "internvl_chat" and entry.default
    assert entry.source == str(FIXTURE_DIR.resolve())
    assert entry.added_at
    manifest = json.loads((tiny_store / "manifest.json").read_text())
    assert set(manifest["models"][0]) == {
        "name",
        "source",
        "layout",
        "checksum",
        "size",
        "added_at",
        "default",
        "num_parameters",
    }
    config = json.loads((tiny_store / MODEL_NAME / "config.json").read_text())
    assert config["model_type"] == "internvl"
    assert config["vision_config"]["attention_bias"] is True
    assert config["vision_config"]["use_mean_pooling"] is True
    assert config["projector_hidden_act"] == "gelu"
    assert config["image_token_id"] == 728 and config["image_seq_length"] == 256
    assert "auto_map" not in json.loads((tiny_store / MODEL_NAME / "tokenizer_config.json").read_text())
    sidecar = json.loads((tiny_store / MODEL_NAME / "artimuse.json").read_text())
    assert sidecar["dropped_token_ids"] == [723, 724, 725]  # <|endoftext|>, <|im_start|>, <|im_end|>
    assert sidecar["system_message"] is None and sidecar["template"] == "internvl2_5"
    assert sidecar["num_image_token"] == 256 and sidecar["checksum"] == entry.checksum


def test_special_tokens_follow_the_checkpoints_tokenizer(tmp_path: Path) -> None:
    """A tokenizer that lists more special tokens (as released InternVL3 ones do) has them dropped too."""
    folder = copy_fixture(tmp_path / "more_special")
    special = json.loads((folder / "special_tokens_map.json").read_text())
    special["additional_special_tokens"] += ["<box>", "</box>"]
    (folder / "special_tokens_map.json").write_text(json.dumps(special))
    checkpoint = conversion.inspect_checkpoint(folder)
    assert checkpoint.sidecar["dropped_token_ids"] == [723, 724, 725, 733, 734]


def test_conversion_splits_qkv_and_renames_byte_exactly(tiny_store: Path) -> None:
    source = safetensors_io.read_header(FIXTURE_DIR / "model.safetensors")
    ours = safetensors_io.read_header(tiny_store / MODEL_NAME / "model.safetensors")
    assert len(ours) == len(source) + 2 * 2 * 2  # per vision layer, qkv weight+bias -> 3 tensors each

    def raw(ref: safetensors_io.TensorRef) -> bytes:
        with ref.file.open("rb") as handle:
            handle.seek(ref.start)
            return handle.read(ref.nbytes)

    qkv = raw(source["vision_model.encoder.layers.1.attn.qkv.weight"])
    third = len(qkv) // 3
    for i, proj in enumerate(("q_proj", "k_proj", "v_proj")):
        ref = ours[f"model.vision_tower.encoder.layer.1.attention.{proj}.weight"]
        assert ref.shape == (64, 64) and ref.dtype == "BF16"
        assert raw(ref) == qkv[i * third : (i + 1) * third]
    assert raw(ours["lm_head.weight"]) == raw(source["language_model.lm_head.weight"])
    assert raw(ours["model.vision_tower.encoder.layer.0.lambda_1"]) == raw(source["vision_model.encoder.layers.0.ls1"])


def test_models_list_shows_backends_and_installed_models(
    use_tiny_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "technical" in out
    assert "artimuse:tiny" in out and "available: yes" in out
    assert store.get_model().checksum in out


def test_models_list_without_models_says_how_to_get_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "artimuse " in out and "available: no" in out and "models download" in out


def test_add_default_and_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "add", str(FIXTURE_DIR), "--name", "one"]) == 0
    assert main(["models", "add", str(FIXTURE_DIR), "--name", "two", "--default"]) == 0
    assert store.get_model().name == "two"
    assert main(["models", "add", str(FIXTURE_DIR), "--name", "two"]) == 2  # taken
    assert "already installed" in capsys.readouterr().err
    assert main(["models", "remove", "two"]) == 0
    assert store.get_model().name == "one"
    assert not (store.manifest_path().parent / "two").exists()
    assert main(["models", "default", "one"]) == 0
    assert main(["models", "remove", "nope"]) == 2
    assert "not installed" in capsys.readouterr().err
    leftovers = [p.name for p in store.manifest_path().parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_registry_names(tmp_path: Path) -> None:
    from artimuse_desktop.scoring.registry import list_backends

    assert main(["models", "add", str(FIXTURE_DIR), "--name", "m1"]) == 0
    names = {info.name: info for info in list_backends()}
    assert names["artimuse"].available and names["artimuse:m1"].available
    assert "m1" in names["artimuse"].reason


def test_pickled_weights_are_refused(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path / "pickled", weights=False)
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not loaded")
    with pytest.raises(ModelError) as info:
        store.add_model(folder, "pickled")
    assert "pytorch_model.bin" in info.value.message and "arbitrary code" in info.value.message
    assert store.list_models() == []


def test_missing_files_give_clear_errors(tmp_path: Path) -> None:
    cases = {
        "config.json": "config.json is missing",
        "model.safetensors": "no weights found",
        "vocab.json": "vocab.json",
        "tokenizer_config.json": "tokenizer_config.json is missing",
    }
    for missing, message in cases.items():
        folder = copy_fixture(tmp_path / missing.replace(".", "_"))
        (folder / missing).unlink()
        with pytest.raises(ModelError) as info:
            store.add_model(folder, "x")
        assert message in info.value.message and str(folder) in info.value.message, info.value.message
    with pytest.raises(ModelError, match="no such folder"):
        store.add_model(tmp_path / "nowhere", "x")


def test_missing_shard_named(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path / "sharded", weights=False)
    tensors = safetensors_io.read_header(FIXTURE_DIR / "model.safetensors")
    shards, _ = safetensors_io.write_shards(sorted(tensors.items()), folder, max_shard_bytes=300_000)
    assert len(shards) > 1 and (folder / "model.safetensors.index.json").is_file()
    shards[1].path.unlink()
    with pytest.raises(ModelError) as info:
        store.add_model(folder, "x")
    assert shards[1].path.name in info.value.message and "incomplete" in (info.value.hint or "")


def test_missing_and_misshapen_tensors_named(tmp_path: Path) -> None:
    tensors = safetensors_io.read_header(FIXTURE_DIR / "model.safetensors")
    folder = copy_fixture(tmp_path / "missing_key", weights=False)
    dropped = "language_model.model.layers.1.mlp.down_proj.weight"
    safetensors_io.write_shards([(n, r) for n, r in tensors.items() if n != dropped], folder, max_shard_bytes=10**9)
    with pytest.raises(ModelError) as info:
        store.add_model(folder, "x")
    assert "model.language_model.layers.1.mlp.down_proj.weight" in info.value.message
    assert "missing" in info.value.message

    folder = copy_fixture(tmp_path / "bad_shape")
    config = json.loads((folder / "config.json").read_text())
    config["llm_config"]["intermediate_size"] = 128
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError) as info:
        store.add_model(folder, "x")
    assert "gate_proj.weight in model.safetensors has shape [176, 64], config.json implies [128, 64]" in (
        info.value.message
    )

    folder = copy_fixture(tmp_path / "extra", weights=False)
    odd = dict(tensors)
    odd["vision_model.something_else"] = tensors["vision_model.encoder.layers.0.ls1"]
    safetensors_io.write_shards(sorted(odd.items()), folder, max_shard_bytes=10**9)
    with pytest.raises(ModelError, match=r"vision_model\.something_else \(in model\.safetensors\)"):
        store.add_model(folder, "x")


def test_truncated_or_foreign_files(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path / "truncated", weights=False)
    data = (FIXTURE_DIR / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="is truncated"):
        store.add_model(folder, "x")
    (folder / "model.safetensors").write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(ModelError, match="not a safetensors file"):
        store.add_model(folder, "x")
    config = json.loads((FIXTURE_DIR / "config.json").read_text())
    config["model_type"] = "llava"
    folder = copy_fixture(tmp_path / "foreign")
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="'llava' is not an ArtiMuse"):
        store.add_model(folder, "x")
    assert store.list_models() == []


def test_interrupted_conversion_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.add_model(FIXTURE_DIR, "half", progress=boom)
    root = store.manifest_path().parent
    assert list(root.iterdir()) == []


def test_bad_names_refused() -> None:
    for name in ("../x", ".hidden", "a/b", "", "x" * 65):
        with pytest.raises(ModelError, match="invalid model name"):
            store.validate_name(name)


def test_no_model_installed_message() -> None:
    with pytest.raises(ModelUnavailableError) as info:
        store.get_model()
    assert "models download" in (info.value.hint or "")


def test_download_offline_fails_at_once(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    assert main(["models", "download", "Thunderbolt215215/ArtiMuse"]) == 2
    assert time.monotonic() - started < 2
    err = capsys.readouterr().err
    assert "offline" in err and "models add" in err
    assert main(["models", "download", "not a repo"]) == 2


def test_startup_modules_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from artimuse_desktop.scoring import registry\n"
        "import artimuse_desktop.scoring.artimuse.discovery, artimuse_desktop.scoring.artimuse.store\n"
        "import artimuse_desktop.scoring.artimuse.convert.checkpoint, artimuse_desktop.scoring.artimuse.backend\n"
        "import artimuse_desktop.commands.models\n"
        "registry.list_backends()\n"
        "heavy = ('torch', 'transformers', 'safetensors', 'huggingface_hub')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_memory_check_refuses_with_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    from artimuse_desktop.scoring.artimuse import devices

    monkeypatch.setattr(devices, "free_bytes", lambda device: 11 * 10**9)
    params_8b = 7_940_000_000
    with pytest.raises(ModelUnavailableError) as info:
        devices.check_memory(params_8b, "cuda:0", "bfloat16")
    assert info.value.message == "the model needs about 18 GB in bfloat16 but cuda:0 has 11 GB free"
    assert info.value.hint == "8-bit (about 11 GB) fits: pass --quantize 8bit"
    devices.check_memory(params_8b, "cuda:0", "4bit")  # about 6 GB: fits
    with pytest.raises(ModelUnavailableError, match="needs about 36 GB"):
        devices.check_memory(params_8b, "cpu", "float32")
