"""The content fingerprint: stable across names and copies, sensitive to what it samples, cheap to compute."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from artimuse_desktop.library import fingerprint as fp


def test_same_content_same_fingerprint_whatever_the_name(tmp_path: Path) -> None:
    original = tmp_path / "IMG_0001.jpg"
    original.write_bytes(b"\xff\xd8" + bytes(range(256)) * 1000)
    copy = tmp_path / "sub" / "renamed.jpeg"
    copy.parent.mkdir()
    shutil.copy2(original, copy)
    assert fp.fingerprint_file(original) == fp.fingerprint_file(copy)
    assert fp.fingerprint_file(original) == fp.fingerprint_bytes(original.read_bytes())


@pytest.mark.parametrize("size", [0, 1, 1000, 3 * fp.CHUNK, 3 * fp.CHUNK + 1, 1_000_003])
def test_bytes_and_file_agree(tmp_path: Path, size: int) -> None:
    data = bytes((index * 7 + index // 251) % 256 for index in range(size))
    path = tmp_path / "f"
    path.write_bytes(data)
    value = fp.fingerprint_file(path)
    assert value == fp.fingerprint_bytes(data)
    assert value.startswith(fp.VERSION) and len(value) == 33  # fits Photo.fingerprint (64)


def test_sampled_regions_and_size_matter(tmp_path: Path) -> None:
    size = 2_000_000
    base = bytearray(size)
    reference = fp.fingerprint_bytes(bytes(base))
    for offset in (10, size // 2, size - 10):  # head, middle, tail
        changed = bytearray(base)
        changed[offset] = 1
        assert fp.fingerprint_bytes(bytes(changed)) != reference
    assert fp.fingerprint_bytes(bytes(base) + b"\x00") != reference


def test_the_documented_limit_an_unsampled_byte_is_not_seen() -> None:
    size = 2_000_000
    base = bytearray(size)
    changed = bytearray(base)
    changed[size // 4] = 1  # between the head and middle samples
    assert fp.fingerprint_bytes(bytes(changed)) == fp.fingerprint_bytes(bytes(base))


def test_small_files_are_hashed_whole() -> None:
    data = bytearray(3 * fp.CHUNK)
    reference = fp.fingerprint_bytes(bytes(data))
    data[fp.CHUNK + 5] = 1
    assert fp.fingerprint_bytes(bytes(data)) != reference


def test_reads_at_most_three_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.raw"
    with path.open("wb") as handle:
        handle.truncate(50_000_000)  # sparse: 50 MB
    read: list[int] = []
    real_open = open

    class Spy:
        def __init__(self, handle: object) -> None:
            self.handle = handle

        def __enter__(self) -> Spy:
            return self

        def __exit__(self, *exc: object) -> None:
            self.handle.close()  # type: ignore[attr-defined]

        def fileno(self) -> int:
            return self.handle.fileno()  # type: ignore[attr-defined]

        def seek(self, offset: int) -> None:
            self.handle.seek(offset)  # type: ignore[attr-defined]

        def read(self, size: int = -1) -> bytes:
            data: bytes = self.handle.read(size)  # type: ignore[attr-defined]
            read.append(len(data))
            return data

    monkeypatch.setattr(fp, "open", lambda *a, **k: Spy(real_open(*a, **k)), raising=False)
    fp.fingerprint_file(path)
    assert read == [fp.CHUNK] * 3
