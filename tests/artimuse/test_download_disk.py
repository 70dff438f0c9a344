"""``models download`` checks the disk before fetching: sizes from the Hub's metadata (here a local fake of a
repository's file list and of an interrupted download's folder), the refusal naming the folder, the bytes
needed and free. Nothing here reaches the network: the one child process talks to a closed local port."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.artimuse import download
from artimuse_desktop.scoring.artimuse.download import RemoteFile

GB = 10**9
ROOT = Path(__file__).resolve().parents[2]

# the layout of the real repository, sizes as the Hub reports them (an 8B checkpoint in 4 shards)
REPO = [
    RemoteFile("README.md", 5_000),
    RemoteFile(".gitattributes", 1_500),
    RemoteFile("config.json", 6_000),
    RemoteFile("configuration_internvl_chat.py", 4_000),  # remote code: never fetched
    RemoteFile("model-00001-of-00004.safetensors", 4 * GB),
    RemoteFile("model-00002-of-00004.safetensors", 4 * GB),
    RemoteFile("model-00003-of-00004.safetensors", 4 * GB),
    RemoteFile("model-00004-of-00004.safetensors", 3 * GB),
    RemoteFile("model.safetensors.index.json", 50_000),
    RemoteFile("pytorch_model.bin", 16 * GB),  # pickled: never fetched
    RemoteFile("tokenizer_config.json", 9_000),
    RemoteFile("vocab.json", 2_700_000),
    RemoteFile("merges.txt", 1_600_000),
]


def test_only_the_files_the_download_fetches_count() -> None:
    names = [f.name for f in download.wanted(REPO)]
    assert "pytorch_model.bin" not in names and "configuration_internvl_chat.py" not in names
    assert "README.md" not in names and ".gitattributes" not in names
    assert "model-00004-of-00004.safetensors" in names and "vocab.json" in names
    assert len(names) == 9


def test_files_already_downloaded_count_as_done(tmp_path: Path) -> None:
    files = download.wanted(REPO)
    empty = download.disk_needed(files, tmp_path)
    total = sum(f.size or 0 for f in files)
    assert empty.download == empty.converted == total and empty.unknown == 0
    (tmp_path / "config.json").write_bytes(b"x" * 6_000)  # complete
    (tmp_path / "vocab.json").write_bytes(b"x" * 1_000)  # cut short: fetched again
    resumed = download.disk_needed(files, tmp_path)
    assert resumed.download == total - 6_000
    assert resumed.total == resumed.download + total + download.DISK_MARGIN_BYTES
    unknown = download.disk_needed([RemoteFile("model.safetensors", None)], tmp_path)
    assert unknown.unknown == 1 and unknown.download == 0


def test_a_disk_too_small_is_refused_naming_folder_needed_and_free(tmp_path: Path) -> None:
    import shutil

    huge = [RemoteFile("model.safetensors", 10**16)]  # 10 PB: more than any disk this test runs on
    with pytest.raises(ModelError) as info:
        download.check_disk("Thunderbolt215215/ArtiMuse", huge, tmp_path)
    message = info.value.message
    free = shutil.disk_usage(tmp_path).free
    assert str(tmp_path) in message and "Thunderbolt215215/ArtiMuse" in message
    assert f"{2 * 10**16 + download.DISK_MARGIN_BYTES:,} bytes" in message
    assert "still to download" in message and "converted copy" in message
    assert f"{free / GB:.1f} GB" in message and "free" in message
    assert "ARTIMUSE_MODELS_DIR" in (info.value.hint or "")
    assert download.check_disk("a/b", [RemoteFile("config.json", 10)], tmp_path).download == 10


def test_an_unreachable_hub_fails_readably_and_leaves_no_folder(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        ARTIMUSE_MODELS_DIR=str(tmp_path / "store"),
        HF_ENDPOINT="http://127.0.0.1:9",  # the discard port: connection refused at once
        HF_HOME=str(tmp_path / "hf"),
    )
    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # the endpoint is local: nothing goes out
        env.pop(variable, None)
    done = subprocess.run(
        [sys.executable, "-m", "artimuse_desktop", "models", "download", "Thunderbolt215215/ArtiMuse"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "not reachable" in done.stderr and "models add" in done.stderr
    assert "Traceback" not in done.stderr
    downloads = tmp_path / "store" / ".downloads"
    assert not downloads.exists() or not any(downloads.iterdir())
