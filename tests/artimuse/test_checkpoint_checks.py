"""Untrusted checkpoints through ``models add``, as a user adds one: refused before anything is allocated.

Each case copies the tiny fixture into a temporary folder and corrupts one thing: the safetensors header
(overlapping, out-of-file or mis-sized tensors, unknown dtypes, absurd header lengths), links that lead out of
the folder, or config.json values (absurd sizes, strings, nesting a hundred thousand deep). Every one must be a
CheckpointError with a hint, naming the file and the key or tensor; nothing is installed.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from artimuse_desktop.cli import main
from artimuse_desktop.scoring.artimuse import store
from artimuse_desktop.scoring.artimuse.convert import checkpoint as conversion
from artimuse_desktop.scoring.artimuse.convert.checks import CheckpointError
from tests.artimuse.conftest import FIXTURE_DIR
from tests.artimuse.test_store import copy_fixture

DEEP = 100_000


@pytest.fixture(autouse=True)
def _fixture_present() -> None:
    if not (FIXTURE_DIR / "model.safetensors").is_file():
        pytest.skip(f"the artimuse-tiny fixture is not at {FIXTURE_DIR}")


def refused(folder: Path, capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    """``models add FOLDER`` fails with a readable error (no traceback) holding every needle; nothing added."""
    code = main(["models", "add", str(folder), "--name", "x"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and "Traceback" not in err
    assert "hint: " in err
    for needle in needles:
        assert needle in err, err
    assert store.list_models() == []
    return err


# ------------------------------------------------------------------------------------------- safetensors


def split_file(path: Path) -> tuple[dict[str, Any], bytes]:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + length]), raw[8 + length :]


def write_file(path: Path, header: dict[str, Any] | bytes, data: bytes) -> None:
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)


def overlap(header: dict[str, Any]) -> None:
    # Two tensors of the same size (the layer scales): the second now reads the first one's bytes.
    header["vision_model.encoder.layers.0.ls2"]["data_offsets"] = header["vision_model.encoder.layers.0.ls1"][
        "data_offsets"
    ]


def past_the_end(header: dict[str, Any]) -> None:
    entry = header["mlp1.3.bias"]
    begin, end = entry["data_offsets"]
    last = max(e["data_offsets"][1] for k, e in header.items() if k != "__metadata__")
    entry["data_offsets"] = [last + 1024, last + 1024 + end - begin]


def unknown_dtype(header: dict[str, Any]) -> None:
    header["mlp1.3.bias"]["dtype"] = "F4_E2M1"


def wrong_size(header: dict[str, Any]) -> None:
    header["mlp1.3.bias"]["shape"] = [65]


def negative_shape(header: dict[str, Any]) -> None:
    header["mlp1.3.bias"]["shape"] = [-64, -1]


def string_offsets(header: dict[str, Any]) -> None:
    header["mlp1.3.bias"]["data_offsets"] = ["0", "128"]


@pytest.mark.parametrize(
    ("corrupt", "needles"),
    [
        (overlap, ["'vision_model.encoder.layers.0.ls", "overlaps"]),
        (past_the_end, ["'mlp1.3.bias' is truncated"]),
        (unknown_dtype, ["'mlp1.3.bias' has unknown dtype 'F4_E2M1'"]),
        (wrong_size, ["'mlp1.3.bias' is corrupt: shape [65] BF16 needs 130 bytes"]),
        (negative_shape, ["'mlp1.3.bias' has a malformed shape [-64, -1]"]),
        (string_offsets, ["'mlp1.3.bias' has malformed data_offsets"]),
    ],
)
def test_bad_safetensors_headers_are_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    corrupt: Callable[[dict[str, Any]], None],
    needles: list[str],
) -> None:
    folder = copy_fixture(tmp_path / "ckpt")
    header, data = split_file(folder / "model.safetensors")
    corrupt(header)
    write_file(folder / "model.safetensors", header, data)
    refused(folder, capsys, str(folder / "model.safetensors"), *needles)


def test_impossible_or_deeply_nested_headers_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy_fixture(tmp_path / "ckpt")
    weights = folder / "model.safetensors"
    _, data = split_file(weights)
    weights.write_bytes(struct.pack("<Q", 2**63) + b"{}" + data)
    refused(folder, capsys, str(weights), "header length 9223372036854775808 is impossible")
    write_file(weights, b'{"__metadata__": ' + b"[" * DEEP + b"]" * DEEP + b"}", data)
    refused(folder, capsys, str(weights), "nested too deeply")


# ------------------------------------------------------------------------------------------------ links


def test_weights_linked_from_outside_the_folder_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copyfile(FIXTURE_DIR / "model.safetensors", elsewhere / "model.safetensors")
    folder = copy_fixture(tmp_path / "ckpt", weights=False)
    (folder / "model.safetensors").symlink_to(elsewhere / "model.safetensors")
    refused(folder, capsys, str(folder / "model.safetensors"), "points outside the model folder", str(elsewhere))


def test_other_files_linked_from_outside_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the model store\n")
    folder = copy_fixture(tmp_path / "ckpt")
    (folder / "merges.txt").unlink()
    (folder / "merges.txt").symlink_to(secret)
    refused(folder, capsys, str(folder / "merges.txt"), "points outside the model folder")
    (folder / "merges.txt").unlink()
    shutil.copyfile(FIXTURE_DIR / "merges.txt", folder / "merges.txt")
    (folder / "config.json").unlink()
    (folder / "config.json").symlink_to(FIXTURE_DIR / "config.json")
    refused(folder, capsys, str(folder / "config.json"), "points outside the model folder")


def test_index_naming_a_shard_outside_the_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "outside.safetensors"
    shutil.copyfile(FIXTURE_DIR / "model.safetensors", outside)
    folder = copy_fixture(tmp_path / "ckpt", weights=False)
    header, _ = split_file(outside)
    weight_map = {name: "../outside.safetensors" for name in header if name != "__metadata__"}
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    refused(folder, capsys, "outside.safetensors", "points outside the model folder")


def test_a_link_inside_the_folder_is_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy_fixture(tmp_path / "ckpt", weights=False)
    (folder / "weights").mkdir()
    shutil.copyfile(FIXTURE_DIR / "model.safetensors", folder / "weights" / "real.safetensors")
    (folder / "model.safetensors").symlink_to(Path("weights") / "real.safetensors")
    assert main(["models", "add", str(folder), "--name", "linked"]) == 0, capsys.readouterr().err
    assert [e.name for e in store.list_models()] == ["linked"]


# ----------------------------------------------------------------------------------------------- config


def with_config(folder: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    config = json.loads((FIXTURE_DIR / "config.json").read_text())
    change(config)
    (folder / "config.json").write_text(json.dumps(config))
    return folder / "config.json"


def set_key(section: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        (config[section] if section else config)[key] = value

    return change


@pytest.mark.parametrize(
    ("section", "key", "value", "needle"),
    [
        ("llm_config", "num_hidden_layers", 1e6, "llm_config.num_hidden_layers is 1000000, outside"),
        ("vision_config", "num_hidden_layers", 1e6, "vision_config.num_hidden_layers is 1000000, outside"),
        ("vision_config", "hidden_size", "64; rm -rf /", 'vision_config.hidden_size is "64; rm -rf /", not a'),
        ("llm_config", "hidden_size", "64; rm -rf /", 'llm_config.hidden_size is "64; rm -rf /", not a'),
        ("llm_config", "vocab_size", 2_000_000, "llm_config.vocab_size is 2000000, outside"),
        ("llm_config", "hidden_size", 70_000, "llm_config.hidden_size is 70000, outside"),
        ("llm_config", "num_attention_heads", 5, "llm_config.num_attention_heads is 5, which does not divide"),
        ("llm_config", "num_key_value_heads", 3, "llm_config.num_key_value_heads is 3, which does not divide"),
        ("vision_config", "num_hidden_layers", True, "vision_config.num_hidden_layers is true, not a whole"),
        ("vision_config", "patch_size", [14, 16], "vision_config.patch_size is [14, 16]"),
        ("llm_config", "intermediate_size", 17.5, "llm_config.intermediate_size is 17.5, not a whole number"),
        ("", "downsample_ratio", 0.3, "downsample_ratio is 0.3"),
        ("", "llm_config", [1, 2], "llm_config is not a JSON object"),
    ],
)
def test_bad_config_values_are_refused_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], section: str, key: str, value: Any, needle: str
) -> None:
    folder = copy_fixture(tmp_path / "ckpt")
    config = with_config(folder, set_key(section, key, value))
    tracemalloc.start()
    try:
        refused(folder, capsys, str(config), needle)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024**2  # refused from the numbers, not after building tables for a million layers


def test_deeply_nested_or_non_standard_json_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = copy_fixture(tmp_path / "ckpt")
    config = with_config(folder, set_key("", "extra", "PLACEHOLDER"))
    text = config.read_text()
    config.write_text(text.replace('"PLACEHOLDER"', "[" * DEEP + "]" * DEEP))
    refused(folder, capsys, str(config), "nested too deeply")
    config.write_text(text.replace('"PLACEHOLDER"', "[" * 200 + "]" * 200))  # under the recursion limit
    refused(folder, capsys, str(config), "nested too deeply")
    config.write_text(text.replace('"PLACEHOLDER"', "NaN"))
    refused(folder, capsys, str(config), "not valid JSON", "NaN is not allowed")
    tokenizer = folder / "tokenizer_config.json"
    config.write_text(text)
    tokenizer.write_text('{"added_tokens_decoder": {"1": 5}}')
    refused(folder, capsys, str(folder), "tokenizer files are malformed")


def test_an_installed_model_edited_afterwards_is_refused_before_loading(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from artimuse_desktop.scoring.artimuse.model import load_model

    assert main(["models", "add", str(FIXTURE_DIR), "--name", "tiny"]) == 0
    entry = store.get_model("tiny")
    config_path = entry.path / "config.json"
    config = json.loads(config_path.read_text())
    config["text_config"]["num_hidden_layers"] = 1e6
    config_path.write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"text_config\.num_hidden_layers is 1000000") as caught:
        load_model(entry, device="cpu")
    assert str(config_path) in caught.value.message
    assert caught.value.hint and "models remove tiny" in caught.value.hint


def test_the_fixture_itself_passes_every_check() -> None:
    checkpoint = conversion.inspect_checkpoint(FIXTURE_DIR)
    assert checkpoint.num_parameters == 411_520
    assert os.path.basename(checkpoint.weight_files[0]) == "model.safetensors"
