"""``models download REPO_ID``: the only code in the app that touches the network.

Fetches a checkpoint from the Hugging Face Hub with ``snapshot_download`` (progress bars, resumes an
interrupted download in the same folder), then the caller converts it into the store. Only safetensors
weights, JSON configs and tokenizer files are fetched: never pickled weights, never remote-code ``.py`` files.
When the machine is offline it fails at once with a readable message instead of hanging in retries.

Before fetching anything (the 8B checkpoint is 16 GB) the Hub's file list with sizes (one metadata request)
gives what is still to download (files already complete in the folder of an interrupted download count as
done) plus the converted copy ``models add`` writes next to it; a disk that cannot hold both is refused,
naming the folder, the bytes needed and the bytes free.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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
DISK_MARGIN_BYTES = 512 * 1024 * 1024  # beyond the files: the conversion's own margin, the Hub's temporary files


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
        with _hub_errors(repo_id):
            files = remote_files(repo_id, revision, token)
        check_disk(repo_id, files, target)
        return _snapshot(repo_id, target, revision, token)
    finally:
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()  # nothing fetched: leave no empty folder behind


@dataclass(frozen=True)
class RemoteFile:
    """One file of the repository that the download fetches, with its size from the Hub (None: not given)."""

    name: str
    size: int | None


def wanted(files: Sequence[RemoteFile]) -> list[RemoteFile]:
    """The files ``snapshot_download`` fetches with ``ALLOW_PATTERNS`` (the same matching as the Hub client)."""
    from huggingface_hub.utils import filter_repo_objects

    return list(filter_repo_objects(list(files), allow_patterns=ALLOW_PATTERNS, key=lambda f: f.name))


def remote_files(repo_id: str, revision: str | None, token: str | None) -> list[RemoteFile]:
    """The repository's files that would be fetched, with their sizes (one metadata request, no file data)."""
    from huggingface_hub import HfApi

    info = HfApi().model_info(repo_id, revision=revision, files_metadata=True, token=token, timeout=10)
    return wanted([RemoteFile(s.rfilename, s.size) for s in info.siblings or []])


@dataclass(frozen=True)
class DiskNeed:
    download: int  # bytes still to fetch (files not already complete in the download folder)
    converted: int  # the copy ``models add`` writes into the store
    unknown: int  # files whose size the Hub did not give

    @property
    def total(self) -> int:
        return self.download + self.converted + DISK_MARGIN_BYTES


def disk_needed(files: Sequence[RemoteFile], target: Path) -> DiskNeed:
    """What ``files`` still need on ``target``'s disk: a file already there at its full size counts as done."""
    download = converted = unknown = 0
    for file in files:
        if file.size is None:
            unknown += 1
            continue
        converted += file.size
        local = target / file.name
        if not (local.is_file() and local.stat().st_size == file.size):
            download += file.size
    return DiskNeed(download=download, converted=converted, unknown=unknown)


def check_disk(repo_id: str, files: Sequence[RemoteFile], target: Path) -> DiskNeed:
    """Refuse, before anything is fetched, a download the disk of ``target`` cannot hold with its conversion."""
    need = disk_needed(files, target)
    free = shutil.disk_usage(target).free
    if free < need.total:
        raise ModelError(
            f"{target}: not enough free disk space to download {repo_id}: it needs {_size(need.total)} "
            f"({_size(need.download)} still to download, {_size(need.converted)} for the converted copy in the "
            f"model store, and a margin), the disk has {_size(free)} free",
            hint="free some space there, or set ARTIMUSE_MODELS_DIR to a folder on a bigger disk; nothing was "
            "downloaded",
        )
    return need


def _size(nbytes: int) -> str:
    return f"{nbytes / 1e9:.1f} GB ({nbytes:,} bytes)"


@contextlib.contextmanager
def _hub_errors(repo_id: str) -> Iterator[None]:
    """The Hub client's errors as readable messages (not found, offline, HTTP, disk)."""
    try:
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
        yield
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
    except Exception as exc:  # the HTTP client's own connection errors (httpx / httpx2): not OSError
        if not _unreachable(exc):
            raise
        raise ModelUnavailableError(
            f"cannot download {repo_id}: huggingface.co is not reachable ({type(exc).__name__}: {exc})",
            hint="check the internet connection (the download resumes where it stopped), or copy the "
            "checkpoint folder here and use `artimuse-desktop models add PATH`",
        ) from exc


def _unreachable(exc: BaseException) -> bool:
    """A connection, DNS or timeout error of the Hub client's HTTP library, whichever one it uses."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"TransportError", "ConnectionError", "TimeoutException", "ConnectTimeout"})


def _snapshot(repo_id: str, target: Path, revision: str | None, token: str | None) -> Path:
    with _hub_errors(repo_id):
        from huggingface_hub import snapshot_download

        folder = snapshot_download(
            repo_id,
            revision=revision,
            local_dir=target,
            allow_patterns=ALLOW_PATTERNS,
            etag_timeout=10,
            token=token,
        )
    return Path(str(folder))


def discard(repo_id: str) -> None:
    """Delete a finished download once it has been converted into the store."""
    shutil.rmtree(download_folder(repo_id), ignore_errors=True)
