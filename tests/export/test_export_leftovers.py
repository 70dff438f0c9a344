"""No leftovers: the temporary files a killed ``export`` or ``xmp write`` left are removed by the next run of
the same command, which says how many; files of a run still going, and anything not matching our exact
temporary-name pattern, are never touched."""

from __future__ import annotations

import fcntl
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from artimuse_desktop import cli
from artimuse_desktop.export.copier import execute_plan, partial_name
from artimuse_desktop.export.plan import build_plan
from artimuse_desktop.export.selection import Selection, select_photos
from artimuse_desktop.export.xmp import sidecar_path, temporary_name
from tests.export.export_helpers import REPO, Library, snapshot
from tests.waiting import wait_until

#: The real export, parked by the real pause of its cancel token from the first progress report: the first
#: copy's temporary file exists (and is locked) when it stops, inside the copy loop.
PARKED_EXPORT = """
import sys
from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog import Catalog
from artimuse_desktop.export.copier import execute_plan
from artimuse_desktop.export.plan import build_plan
from artimuse_desktop.export.selection import Selection, select_photos

token = CancelToken()
plan = build_plan(select_photos(Catalog(sys.argv[1]), Selection(top=3)), sys.argv[2])
execute_plan(plan, cancel=token, progress=lambda progress: token.pause())
"""
#: Holds a temporary file the way a running ``xmp write`` does, until killed.
HOLDER = """
import sys
from pathlib import Path
from artimuse_desktop.export.leftovers import mark_in_use

print("held" if mark_in_use(Path(sys.argv[1])) is not None else "no lock", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def originals(library: Library) -> Iterator[None]:
    before = snapshot(library.files)
    yield
    assert snapshot(library.files) == before, "an original changed"


def _partials(folder: Path) -> list[Path]:
    """Our export temporaries: ``.NAME.<8 lower-case hex>.partial``, regular files."""
    named = (p for p in folder.iterdir() if re.fullmatch(r"\..+\.[0-9a-f]{8}\.partial", p.name))
    return sorted(p for p in named if p.is_file() and not p.is_symlink())


def _locked(path: Path) -> bool:
    """Whether another process holds our in-use lock on ``path`` (what the sweep checks)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def _decoys(folder: Path, outside: Path) -> dict[Path, bytes]:
    """Files that look like ours but are not: each must survive every sweep."""
    folder.mkdir(parents=True, exist_ok=True)
    outside.write_bytes(b"the target of a link")
    decoys = {
        folder / ".a_best.jpg.partial": b"no token",
        folder / ".a_best.jpg.1234abcd.partial.keep": b"longer name",
        folder / "a_best.jpg.1234abcd.partial": b"not hidden",
        folder / ".a_best.jpg.1234ABCD.partial": b"upper-case token",
        folder / ".a_best.xmp.1234abcd.tmp": b"a sidecar temporary, not an export's",
        folder / "notes.txt": b"the user's",
    }
    for path, content in decoys.items():
        path.write_bytes(content)
    (folder / ".linked.jpg.1234abcd.partial").symlink_to(outside)
    (folder / ".folder.jpg.1234abcd.partial").mkdir()
    os.mkfifo(folder / ".pipe.jpg.1234abcd.partial")  # never opened: it would block
    return decoys


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


@pytest.mark.timeout(120)
def test_kill_9_during_export_leaves_a_partial_the_next_export_removes(
    library: Library, originals: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "out"
    decoys = _decoys(dest, tmp_path / "outside.jpg")
    child = subprocess.Popen(
        [sys.executable, "-c", PARKED_EXPORT, str(library.catalog.path), str(dest)],
        cwd=REPO,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: bool(_partials(dest)) or child.poll() is not None, timeout=100, what="the first copy")
        assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
        (partial,) = _partials(dest)
        wait_until(lambda: _locked(partial), timeout=100, what="the copy's lock")

        # Another export into the same folder meanwhile: the running one's partial is not a leftover.
        result = execute_plan(build_plan(select_photos(library.catalog, Selection(top=1)), dest))
        assert result.ok and result.leftovers_removed == [] and partial.exists()
    finally:
        _kill(child)
    assert child.returncode == -9 and partial.exists()  # what a kill -9 leaves behind

    capsys.readouterr()
    assert cli.main(["--catalog", str(library.catalog.path), "export", str(dest), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert f"removed 1 temporary file(s) left in {dest} by a stopped export" in out
    assert not partial.exists() and _partials(dest) == []
    assert all(path.read_bytes() == content for path, content in decoys.items())
    assert (dest / ".linked.jpg.1234abcd.partial").is_symlink() and (tmp_path / "outside.jpg").exists()
    assert (dest / ".folder.jpg.1234abcd.partial").is_dir()
    assert stat.S_ISFIFO((dest / ".pipe.jpg.1234abcd.partial").lstat().st_mode)


def test_report_partials_left_in_dest_are_removed_too(library: Library, originals: None, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    planted = [partial_name(dest / "artimuse-export.csv"), partial_name(dest / "sub" / "IMG_0001.CR2")]
    planted[1].parent.mkdir()
    for path in planted:
        path.write_bytes(b"half a file")
    plan = build_plan(select_photos(library.catalog, Selection(top=1)), dest)
    result = execute_plan(plan)
    assert result.leftovers_removed == [planted[0]]  # only the folders this export writes into
    assert planted[1].exists()


@pytest.mark.timeout(120)
def test_xmp_write_removes_its_own_leftovers_but_never_a_live_one(
    library: Library, originals: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = library.path("a_best.jpg")
    stale = temporary_name(sidecar_path(photo))
    stale.write_bytes(b"<x:xmpmeta half written")
    live = temporary_name(sidecar_path(library.path("b_good.jpg")))
    live.write_bytes(b"<x:xmpmeta being written")
    upper = temporary_name(library.root / "c_mid.XMP")  # an existing IMG.XMP keeps its case
    upper.write_bytes(b"")
    decoys = {
        library.root / ".a_best.xmp.tmp": b"no token",
        library.root / ".a_best.xmp.1234abcd.tmp.bak": b"longer name",
        library.root / "a_best.xmp.1234abcd.tmp": b"not hidden",
        library.root / ".a_best.jpg.1234abcd.tmp": b"not a sidecar's",
        library.root / ".a_best.jpg.1234abcd.partial": b"an export's, not ours",
    }
    for path, content in decoys.items():
        path.write_bytes(content)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(live)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        capsys.readouterr()
        cli.main(["--catalog", str(library.catalog.path), "xmp", "write"])
        out = capsys.readouterr().out
        assert "XMP: removed 2 temporary sidecar files left by an earlier, stopped run." in out
        assert not stale.exists() and not upper.exists() and live.exists()
    finally:
        _kill(holder)

    cli.main(["--catalog", str(library.catalog.path), "xmp", "write"])
    assert "removed 1 temporary sidecar file left" in capsys.readouterr().out
    assert not live.exists()
    assert all(path.read_bytes() == content for path, content in decoys.items())
    assert (library.root / "a_best.xmp").exists()  # and the sidecars themselves were written
