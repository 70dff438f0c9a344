"""Places that are full or read-only for real: a small tmpfs, a read-only bind mount, an immutable file.

We run as root, which ignores permission bits, so "read-only" has to come from the kernel: a mount that is
read-only or the immutable attribute (``chattr +i``). Each helper skips with the reason where this machine does
not allow it, and always undoes what it did.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), capture_output=True, text=True, check=False)


@contextmanager
def small_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. "400k") mounted on ``folder`` for the duration."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield folder
    finally:
        _run("umount", "-l", str(folder))


@contextmanager
def read_only_view(source: Path, view: Path) -> Iterator[Path]:
    """``source`` seen read-only at ``view`` (a read-only bind mount) for the duration."""
    view.mkdir(parents=True, exist_ok=True)
    bound = _run("mount", "--bind", str(source), str(view))
    if bound.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bound.stderr.strip() or bound.returncode}")
    try:
        frozen = _run("mount", "-o", "remount,bind,ro", str(view))
        if frozen.returncode != 0:
            pytest.skip(f"cannot remount read-only here: {frozen.stderr.strip() or frozen.returncode}")
        yield view
    finally:
        _run("umount", "-l", str(view))


@contextmanager
def immutable(path: Path) -> Iterator[Path]:
    """``path`` with the immutable attribute set (not even root may write it) for the duration."""
    made = _run("chattr", "+i", str(path))
    if made.returncode != 0:
        pytest.skip(f"cannot set the immutable attribute here: {made.stderr.strip() or made.returncode}")
    try:
        yield path
    finally:
        _run("chattr", "-i", str(path))
