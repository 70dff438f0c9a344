"""The scanner: every photo once, no junk, no hang on FIFOs or symlink loops, any name, any depth."""

from __future__ import annotations

import os
import socket
import stat
import sys
from pathlib import Path

import pytest

from artimuse_desktop.library import scanner
from tests.library import imagefactory as images


def _jpeg(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(images.jpeg_bytes(images.marker_image(32, 24)))
    return path


def _found(result: scanner.ScanResult) -> set[str]:
    return {entry.path for entry in result.files}


def test_recursive_walk_finds_photos_with_stat_data(library: Path) -> None:
    a = _jpeg(library / "a.jpg")
    b = _jpeg(library / "2024" / "05" / "b.JPG")
    raw = library / "2024" / "c.nef"
    raw.write_bytes(b"II*\x00" + b"\x00" * 64)
    result = scanner.scan([library])
    assert _found(result) == {str(a), str(b), str(raw)}
    entry = next(e for e in result.files if e.path == str(a))
    assert entry.size == a.stat().st_size and entry.mtime == a.stat().st_mtime
    assert entry.root == str(library)
    assert result.folders == 3  # photos, 2024, 2024/05


def test_hidden_junk_and_sidecars_are_skipped(library: Path) -> None:
    keep = _jpeg(library / "keep.jpg")
    for junk in (
        ".hidden.jpg", ".DS_Store", "._keep.jpg", "Thumbs.db", "desktop.ini", "keep.xmp", "keep.XMP",
        "IMG_1.AAE", "keep.thm", "keep.jpg.pp3", "keep.dop", "keep.on1", "keep.cos", "notes.txt", "clip.mp4",
    ):  # fmt: skip
        (library / junk).write_bytes(images.jpeg_bytes(images.marker_image(8, 8)))
    _jpeg(library / ".git" / "x.jpg")
    _jpeg(library / "@eaDir" / "keep.jpg" / "SYNOPHOTO_THUMB_XL.jpg")
    _jpeg(library / ".thumbnails" / "t.jpg")
    result = scanner.scan([library])
    assert _found(result) == {str(keep)}
    assert result.skipped == []
    assert result.ignored >= 15


def test_a_file_without_extension_is_sniffed(library: Path) -> None:
    photo = _jpeg(library / "scan0001")
    (library / "README").write_text("not a photo")
    assert _found(scanner.scan([library])) == {str(photo)}


@pytest.mark.timeout(20)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_fifo_is_skipped_with_a_reason_and_never_opened(library: Path) -> None:
    photo = _jpeg(library / "a.jpg")
    os.mkfifo(library / "pipe.jpg")  # opening it would block forever: nobody writes to it
    os.mkfifo(library / "pipe")
    result = scanner.scan([library])
    assert _found(result) == {str(photo)}
    reasons = dict(result.skipped)
    assert reasons[str(library / "pipe.jpg")].startswith("named pipe (FIFO)")
    assert str(library / "pipe") in reasons


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs Unix sockets")
def test_socket_is_skipped(tmp_path: Path) -> None:
    folder = Path("/tmp") / f"amsock{os.getpid()}"  # AF_UNIX paths are limited to ~100 bytes
    folder.mkdir(exist_ok=True)
    path = folder / "s.jpg"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        result = scanner.scan([folder])
        assert dict(result.skipped)[str(path)].startswith("socket")
        assert result.files == []
    finally:
        server.close()
        path.unlink(missing_ok=True)
        folder.rmdir()


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")
def test_a_device_named_as_root_is_skipped() -> None:
    result = scanner.scan(["/dev/null"])
    assert result.files == []
    assert dict(result.skipped)["/dev/null"].startswith("character device")


@pytest.mark.timeout(20)
def test_symlink_loops_terminate_and_files_are_found_once(library: Path, tmp_path: Path) -> None:
    photo = _jpeg(library / "sub" / "a.jpg")
    os.symlink("..", library / "sub" / "up")  # back to the root: a loop
    os.symlink(".", library / "sub" / "self")  # to itself
    os.symlink(library, library / "sub" / "root-again")
    outside = _jpeg(tmp_path / "elsewhere" / "b.jpg")
    os.symlink(outside.parent, library / "linked")  # a real folder elsewhere: followed
    os.symlink(tmp_path, library / "parent-of-root")  # leads back into the root through its parent
    os.symlink(library / "nowhere", library / "broken.jpg")
    os.symlink("loop2", library / "loop1")
    os.symlink("loop1", library / "loop2")
    result = scanner.scan([library])
    assert sorted(_found(result)) == sorted([str(photo), str(library / "linked" / "b.jpg")])
    reasons = dict(result.skipped)
    assert reasons[str(library / "broken.jpg")] == "broken symbolic link"
    assert "symbolic link loop" in reasons[str(library / "parent-of-root")]
    assert str(library / "loop1") in reasons  # ELOOP


def test_overlapping_roots_list_each_file_once(library: Path) -> None:
    photo = _jpeg(library / "sub" / "a.jpg")
    result = scanner.scan([library, library / "sub", library / "sub" / "a.jpg"])
    assert [entry.path for entry in result.files] == [str(photo)]


def test_a_file_root_is_indexed_whatever_its_name(library: Path) -> None:
    photo = _jpeg(library / "export.data")
    result = scanner.scan([photo])
    assert _found(result) == {str(photo)}


def test_missing_root_is_reported(tmp_path: Path) -> None:
    result = scanner.scan([tmp_path / "unplugged-drive"])
    assert result.unreadable == [(str(tmp_path / "unplugged-drive"), "not found")]


def test_unreadable_folder_is_reported_simulated(library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Works as root too: os.scandir is made to refuse one folder."""
    good = _jpeg(library / "good" / "a.jpg")
    _jpeg(library / "locked" / "b.jpg")
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        if os.path.basename(path) == "locked":
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(scanner.os, "scandir", scandir)
    result = scanner.scan([library])
    assert _found(result) == {str(good)}
    assert result.unreadable == [(str(library / "locked"), "permission denied")]
    assert result.is_under_unreadable(str(library / "locked" / "b.jpg"))
    assert not result.is_under_unreadable(str(library / "lockedx" / "b.jpg"))


@pytest.mark.skipif(getattr(os, "geteuid", lambda: 0)() == 0, reason="root reads folders whatever their permissions")
def test_unreadable_folder_is_reported_for_real(library: Path) -> None:
    locked = library / "locked"
    _jpeg(locked / "b.jpg")
    locked.chmod(0)
    try:
        result = scanner.scan([library])
        assert result.unreadable == [(str(locked), "permission denied")]
    finally:
        locked.chmod(stat.S_IRWXU)


def test_invalid_utf8_and_unicode_names(library: Path) -> None:
    raw_name = os.fsencode(library) + b"/Caf\xe9 \xff.jpg"  # Latin-1 bytes: not valid UTF-8
    with open(raw_name, "wb") as handle:
        handle.write(images.jpeg_bytes(images.marker_image(16, 16)))
    names = ["été.jpg", "e\u0301te\u0301.jpg", "写真 📷.jpg", "Ωmega.heic"]
    for name in names:
        _jpeg(library / name)
    result = scanner.scan([library])
    found = {os.fsencode(entry.path) for entry in result.files}
    assert raw_name in found
    for name in names:
        assert os.fsencode(str(library / name)) in found


def test_a_300_level_deep_tree(library: Path) -> None:
    deep = library
    for level in range(300):
        deep = deep / f"d{level % 10}"
    photo = _jpeg(deep / "bottom.jpg")
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(120)  # the walk must not recurse
    try:
        result = scanner.scan([library])
    finally:
        sys.setrecursionlimit(previous)
    assert _found(result) == {str(photo)}
    assert result.folders == 301


def test_cancel_stops_the_walk(library: Path) -> None:
    class Cancelled:
        cancelled = True

    _jpeg(library / "a.jpg")
    result = scanner.scan([library], cancel=Cancelled())
    assert result.cancelled and result.files == []


def test_excluded_folders_are_not_entered(library: Path) -> None:
    photo = _jpeg(library / "a.jpg")
    _jpeg(library / "cache" / "grid" / "x.jpg")
    assert _found(scanner.scan([library], exclude=[library / "cache"])) == {str(photo)}
