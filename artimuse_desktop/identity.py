"""Who is deciding and on which computer: the names a shared catalog keeps per user and per machine.

The user names the undo log's owner (``culling.decisions``: each editor undoes only their own batches); the
machine names where a library root is mounted (``catalog.root_locations``: the same NAS folder at
``/Volumes/Photos`` on one Mac and ``/mnt/photos`` on a Linux box is the same photos). ``ARTIMUSE_USER`` and
``ARTIMUSE_MACHINE`` override both (tests, or two editors sharing one login). The machine id is otherwise a
random one made once and kept in the data folder, so renaming the computer does not lose its mappings.
Standard library only: the CLI may import this at start.
"""

from __future__ import annotations

import getpass
import os
import re
import uuid
from pathlib import Path

from artimuse_desktop import paths

#: The user of decisions recorded before users were (catalog schema 0004): everyone's history.
LEGACY_USER = ""
#: What a catalog column holds at most (models: ``String(128)``).
MAX_NAME = 128
_MACHINE_FILE = "machine-id"
_MACHINE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_known: dict[Path, str] = {}  # machine-id files already read by this process


def _clean(value: str, what: str, variable: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_NAME or any(not ch.isprintable() for ch in value):
        raise ValueError(f"{variable}={value!r} is not a usable {what}: 1–{MAX_NAME} printable characters")
    return value


def current_user() -> str:
    """``ARTIMUSE_USER``, else the operating system's login name, else ``"local"`` where it has none."""
    override = os.environ.get("ARTIMUSE_USER")
    if override is not None and override.strip():
        return _clean(override, "user name", "ARTIMUSE_USER")
    try:
        name = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name (a container without a passwd entry)
        return "local"
    return name.strip()[:MAX_NAME] or "local"


def machine_file() -> Path:
    """Where this computer's id is kept (the user's data folder)."""
    return paths.data_dir() / _MACHINE_FILE


def machine_id() -> str:
    """``ARTIMUSE_MACHINE``, else this computer's id from the data folder (made there on first use)."""
    override = os.environ.get("ARTIMUSE_MACHINE")
    if override is not None and override.strip():
        return _clean(override, "machine id", "ARTIMUSE_MACHINE")
    path = machine_file()
    existing = _known.get(path) or _read(path)
    if existing is not None:
        _known[path] = existing
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = uuid.uuid4().hex
    temporary = path.with_name(f"{_MACHINE_FILE}.{fresh}.tmp")
    temporary.write_text(fresh + "\n", encoding="ascii")
    try:
        # A hard link never replaces: two processes starting at once agree on the id written first.
        os.link(temporary, path)
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if _read(path) is None:
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    found = _read(path)
    if found is None:
        raise ValueError(f"{path} does not hold a machine id; delete it to make a new one")
    _known[path] = found
    return found


def _read(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValueError(f"cannot read this computer's id from {path}: {exc.strerror or exc}") from exc
    if not text:
        return None  # another process made it and has not written the id yet, or an empty file
    if not _MACHINE_ID.match(text):
        raise ValueError(f"{path} does not hold a machine id ({text[:40]!r}); delete it to make a new one")
    return text
