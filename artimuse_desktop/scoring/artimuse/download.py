"""``models download REPO_ID``: the only code in the app that touches the network.

Fetches a checkpoint from the Hugging Face Hub with ``snapshot_download`` (progress bars, resumes an
interrupted download in the same folder), then the caller converts it into the store. Only safetensors
weights, JSON configs and tokenizer files are fetched: never pickled weights, never remote-code ``.py`` files.
When the machine is offline it fails at once with a readable message instead of hanging in retries.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from artimuse_desktop import paths
from artimuse_desktop.errors import ModelError, ModelUnavailableError

DEFAULT_REPO = "Thunderbolt215215/ArtiMuse"
ALLOW_PATTERNS: list[str] = [
    "*.safetensors",
    "model.safetensors.index.json",
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
]
_TRUTHY = {"1", "true", "yes", "on"}


def downloads_dir() -> Path:
    """Partial and finished downloads, inside the model store (same disk as the converted models)."""
    return paths.models_dir() / ".downloads"


def download_folder(repo_id: str) -> Path:
    return downloads_dir() / repo_id.replace("/", "--")


def offline_reason() -> str | None:
    """Why a download cannot even be tried, decided from the environment without touching the network.

    Without these variables an unreachable Hub still fails fast: huggingface_hub's connection error (no DNS,
    no route) comes back in well under a second and is turned into a readable message below.
    """
    for variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(variable, "").strip().lower() in _TRUTHY:
            return f"offline mode is on ({variable}={os.environ[variable]})"
    return None


def validate_repo_id(repo_id: str) -> str:
    parts = repo_id.strip().split("/")
    if len(parts) != 2 or not all(parts) or any(p in (".", "..") for p in parts):
        raise ModelError(f"{repo_id!r} is not a Hub repository id", hint="use OWNER/NAME, e.g. " + DEFAULT_REPO)
    return repo_id.strip()


def download(repo_id: str, revision: str | None = None, token: str | None = None) -> Path:
    """Download (or resume) ``repo_id`` into the store's download area; returns the folder."""
    repo_id = validate_repo_id(repo_id)
    reason = offline_reason()
    if reason:
        raise ModelUnavailableError(
            f"cannot download {repo_id}: {reason}",
            hint="connect to the internet, or copy the checkpoint folder to this machine and use "
            "`artimuse-desktop models add PATH`",
        )
    target = download_folder(repo_id)
    target.mkdir(parents=True, exist_ok=True)
    try:
        return _snapshot(repo_id, target, revision, token)
    finally:
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()  # nothing fetched: leave no empty folder behind


def _snapshot(repo_id: str, target: Path, revision: str | None, token: str | None) -> Path:
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import (
            GatedRepoError,
            HfHubHTTPError,
            LocalEntryNotFoundError,
            OfflineModeIsEnabled,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )
    except ImportError as exc:  # the light build, or an install without the [artimuse] extra
        from artimuse_desktop.scoring.artimuse.discovery import install_hint

        raise ModelUnavailableError(
            f"cannot download {repo_id}: the huggingface_hub package is not installed", hint=install_hint()
        ) from exc

    try:
        folder = snapshot_download(
            repo_id,
            revision=revision,
            local_dir=target,
            allow_patterns=ALLOW_PATTERNS,
            etag_timeout=10,
            token=token,
        )
    except (GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError) as exc:
        raise ModelError(
            f"cannot download {repo_id}: the repository or revision was not found or needs access rights ({exc})",
            hint="check the name; for a gated repository log in with `hf auth login` first",
        ) from exc
    except (OfflineModeIsEnabled, LocalEntryNotFoundError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelUnavailableError(
            f"cannot download {repo_id}: huggingface.co is not reachable ({first_line})",
            hint="check the internet connection (the download resumes where it stopped), or copy the "
            "checkpoint folder here and use `artimuse-desktop models add PATH`",
        ) from exc
    except HfHubHTTPError as exc:
        raise ModelError(f"cannot download {repo_id}: {exc}", hint="run the command again: it resumes") from exc
    except OSError as exc:  # connection errors, disk full
        raise ModelError(f"cannot download {repo_id}: {exc}", hint="run the command again: it resumes") from exc
    return Path(str(folder))


def discard(repo_id: str) -> None:
    """Delete a finished download once it has been converted into the store."""
    shutil.rmtree(download_folder(repo_id), ignore_errors=True)
