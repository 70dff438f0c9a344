"""Critique length: ``--max-new-tokens`` on the command line, the ``critique_max_new_tokens`` setting, the checks.

Default 1024 tokens, at most 8192 (what the authors allow). The option wins over the setting; a bad option
is refused with the range, a bad setting falls back to the default (settings never keep the app from starting).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from artimuse_desktop import settings as settings_module
from artimuse_desktop.cli import build_parser, main
from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.types import PhotoInput
from artimuse_desktop.settings import Settings
from tests.artimuse.conftest import FIXTURE_DIR


def test_the_setting_defaults_to_1024_and_keeps_only_1_to_8192(tmp_path: Path) -> None:
    assert Settings().critique_max_new_tokens == 1024
    path = tmp_path / "settings.json"
    settings_module.save(Settings(critique_max_new_tokens=8192), path)
    assert settings_module.load(path).critique_max_new_tokens == 8192
    for bad in (0, 8193, -5, "long", True, None):
        path.write_text(f'{{"critique_max_new_tokens": {__import__("json").dumps(bad)}}}')
        assert settings_module.load(path).critique_max_new_tokens == 1024, bad


def test_the_limit_is_checked_with_a_clear_message() -> None:
    pytest.importorskip("torch")
    from artimuse_desktop.scoring.artimuse.critique import DEFAULT_MAX_NEW_TOKENS, check_max_new_tokens

    assert DEFAULT_MAX_NEW_TOKENS == Settings().critique_max_new_tokens == 1024
    assert check_max_new_tokens(1) == 1 and check_max_new_tokens(8192) == 8192
    for bad in (0, 8193, True, 2.0, "12"):
        with pytest.raises(ModelError, match="from 1 to 8192") as info:
            check_max_new_tokens(bad)
        assert "--max-new-tokens" in info.value.user_text()


@pytest.mark.parametrize("value", ["0", "8193", "-1", "many", "1.5"])
def test_the_option_refuses_what_is_out_of_range(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["critique", "photo.jpg", "--max-new-tokens", value])
    assert info.value.code == 2
    assert f"argument --max-new-tokens: {value!r} is not a number of tokens from 1 to 8192" in capsys.readouterr().err


def test_the_option_is_parsed_and_absent_means_the_setting() -> None:
    assert build_parser().parse_args(["critique", "a.jpg", "--max-new-tokens", "8192"]).max_new_tokens == 8192
    assert build_parser().parse_args(["critique", "a.jpg"]).max_new_tokens is None


@pytest.mark.model
def test_load_backend_passes_the_length_only_to_generating_models(use_tiny_store: Path) -> None:
    from artimuse_desktop.commands.model_options import load_backend

    with pytest.raises(ModelError, match="does not generate its critiques"):
        load_backend("technical", "cpu", max_new_tokens=5)
    backend: Any = load_backend("artimuse:tiny", "cpu", max_new_tokens=5)
    try:
        assert backend.max_new_tokens == 5 and backend.critique_length() == 5
    finally:
        backend.unload()


@pytest.mark.model
def test_the_backend_writes_as_long_as_the_setting_says_and_the_option_wins(
    use_tiny_store: Path, expected: dict[str, Any], image_files: list[str]
) -> None:
    from artimuse_desktop.scoring.registry import create_backend

    name = image_files[3]
    item = PhotoInput(photo_id=1, path=str(FIXTURE_DIR / expected["images"][name]["file"]), fingerprint=name)
    reference = expected["images"][name]["chat"]["Technical Execution"]["new_token_ids"]
    settings_module.save(Settings(critique_max_new_tokens=5))  # the user's settings file (isolated per test)
    backend: Any = create_backend("artimuse:tiny")
    backend.load("cpu")
    try:
        assert backend.critique_length() == 5
        output = backend.critique_detailed(item, ["technical execution"])
        assert output.token_ids["Technical Execution"] == reference[:5]
        assert output.finished["Technical Execution"]  # the limit ends a critique like eos does
        backend.max_new_tokens = 3
        output = backend.critique_detailed(item, ["technical execution"])
        assert output.token_ids["Technical Execution"] == reference[:3]
        backend.max_new_tokens = 0
        with pytest.raises(ModelError, match="from 1 to 8192"):
            backend.critique_detailed(item, ["technical execution"])
    finally:
        backend.unload()


@pytest.mark.model
def test_critique_command_with_max_new_tokens(
    use_tiny_store: Path, expected: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from artimuse_desktop.scoring.artimuse import store
    from artimuse_desktop.scoring.artimuse.critique import ResponseDecoder

    library = tmp_path / "shoot"
    shutil.copytree(FIXTURE_DIR / "images", library)
    base = ["--catalog", str(tmp_path / "catalog.sqlite")]
    assert main([*base, "index", str(library)]) == 0
    name = "gradient_640x480.png"
    capsys.readouterr()
    args = [*base, "critique", str(library / name), "--attribute", "composition", "--device", "cpu"]
    assert main([*args, "--max-new-tokens", "4"]) == 0
    shown = capsys.readouterr().out
    from transformers import AutoTokenizer

    entry = store.get_model("tiny")
    tokenizer = AutoTokenizer.from_pretrained(str(entry.path), local_files_only=True)
    decoder = ResponseDecoder(tokenizer, store.read_sidecar(entry).get("dropped_token_ids", ()))
    reference = next(v for k, v in expected["images"].items() if k.endswith(name))["chat"]["Composition & Design"]
    short = decoder.response(reference["new_token_ids"][:4])
    assert f"-- Composition & Design\n{short}\n" in shown
    assert reference["response"] not in shown
