"""Pruning costs what changed: the running total (``.ledger``) stands in for a walk of the cache, and every way
it could be wrong (unreadable, stale, a smaller budget, files changed behind its back) ends in a walk, never in
a wrong deletion. Whether a prune walked is seen from Python's audit events for listing a folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from artimuse_desktop.imaging.cache_ledger import LEDGER_NAME, MAX_AGE_S
from artimuse_desktop.imaging.thumbnails import LOW_WATER, ThumbnailCache
from tests.library import imagefactory as images

_listed: list[str] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _listed is not None and event in ("os.scandir", "os.listdir"):
        _listed.append(str(args[0]) if args else "")


sys.addaudithook(_audit)


@pytest.fixture
def listings() -> Iterator[list[str]]:
    """The folders listed while the test runs (os.walk lists each one with scandir)."""
    global _listed
    _listed = []
    try:
        yield _listed
    finally:
        _listed = None


def _key(number: int) -> str:
    return f"k{number:031x}"


def _fill(cache: ThumbnailCache, count: int, start: int = 0) -> None:
    image = images.photo_like(64, 48, seed=1)
    for number in range(start, start + count):
        cache.store(_key(number), "grid", image)


def test_the_prune_after_new_thumbnails_lists_no_folder(tmp_path: Path, listings: list[str]) -> None:
    cache = ThumbnailCache(tmp_path / "thumbs", max_bytes=10**9)
    _fill(cache, 300)
    first = cache.prune()  # no ledger yet: one walk, then a checkpoint
    assert first.remaining_bytes == cache.total_bytes() and listings
    _fill(cache, 5, start=300)
    cache.discard(_key(7))
    listings.clear()
    result = cache.prune()
    assert listings == []  # nothing walked, nothing statted beyond the new files
    assert result.removed_files == 0
    assert result.remaining_bytes == cache.total_bytes()


def test_over_budget_the_oldest_go_down_to_the_low_water_mark(tmp_path: Path, listings: list[str]) -> None:
    cache = ThumbnailCache(tmp_path / "thumbs", max_bytes=10**9)
    _fill(cache, 40)
    now = time.time()
    for number in range(40):  # _key(0) is the least recently used
        stamp = now - 10_000 * (40 - number)
        os.utime(cache.path_for(_key(number), "grid"), (stamp, stamp))
    total = cache.total_bytes()
    budget = total * 3 // 4
    result = ThumbnailCache(cache.root, max_bytes=budget).prune()
    assert result.remaining_bytes <= budget * LOW_WATER and result.remaining_bytes == cache.total_bytes()
    kept = [number for number in range(40) if cache.get(_key(number), "grid") is not None]
    assert kept == list(range(40 - len(kept), 40)) and 0 < len(kept) < 30
    # the room left means the next run's prune needs no walk
    _fill(cache, 2, start=100)
    listings.clear()
    again = ThumbnailCache(cache.root, max_bytes=budget).prune()
    assert listings == [] and again.removed_files == 0 and again.remaining_bytes == cache.total_bytes()


@pytest.mark.parametrize(
    "ledger_text",
    [
        "",
        "garbage\n",
        "artimuse-thumbnail-ledger 1 100 1000000000 {now}\n+12",  # a line cut short by a crash
        "artimuse-thumbnail-ledger 1 100 1000000000 {now}\n+x\n",
        "artimuse-thumbnail-ledger 9 100 1000000000 {now}\n",  # another version's
        "artimuse-thumbnail-ledger 1 100 1000000000 {stale}\n",  # a week old
    ],
)
def test_a_ledger_that_cannot_be_trusted_means_a_walk(tmp_path: Path, ledger_text: str) -> None:
    cache = ThumbnailCache(tmp_path / "thumbs", max_bytes=10**9)
    _fill(cache, 6)
    (cache.root / LEDGER_NAME).write_text(
        ledger_text.format(now=int(time.time()), stale=int(time.time() - MAX_AGE_S - 60))
    )
    assert cache.prune().remaining_bytes == cache.total_bytes()
    assert ThumbnailCache(cache.root, max_bytes=cache.total_bytes() // 2).prune().removed_files > 0


def test_a_smaller_budget_walks_once_and_sees_files_added_behind_the_cache(tmp_path: Path) -> None:
    cache = ThumbnailCache(tmp_path / "thumbs", max_bytes=10**9)
    _fill(cache, 4)
    cache.prune()
    stray = cache.root / "preview" / "zz"
    stray.mkdir(parents=True)
    (stray / f"{'ab' * 8}00zz.jpg").write_bytes(b"\xff\xd8" + b"\0" * 400_000 + b"\xff\xd9")  # an old version's
    result = ThumbnailCache(cache.root, max_bytes=300_000).prune()
    assert result.removed_files >= 1 and cache.total_bytes() <= 300_000


def test_removals_by_get_and_discard_are_counted(tmp_path: Path, listings: list[str]) -> None:
    cache = ThumbnailCache(tmp_path / "thumbs", max_bytes=10**9)
    _fill(cache, 5)
    cache.prune()
    path = cache.path_for(_key(1), "grid")
    path.write_bytes(path.read_bytes()[:-2] + b"\0\0")  # no JPEG end marker: get() removes it
    assert cache.get(_key(1), "grid") is None
    cache.discard(_key(2))
    cache.discard(_key(99))  # never stored: nothing to count
    listings.clear()
    remaining = cache.prune().remaining_bytes
    assert listings == []
    assert remaining == cache.total_bytes()


def test_a_prune_of_a_missing_cache_creates_nothing(tmp_path: Path) -> None:
    cache = ThumbnailCache(tmp_path / "thumbs")
    assert cache.prune().remaining_bytes == 0
    assert not cache.root.exists()


_STORE = """
import sys
from PIL import Image
from artimuse_desktop.imaging.thumbnails import ThumbnailCache
cache = ThumbnailCache(sys.argv[1])
image = Image.new("RGB", (48, 32), (int(sys.argv[2]) * 40, 90, 120))
for number in range(60):
    cache.store(f"p{sys.argv[2]}{number:030x}", "grid", image)
"""


def test_processes_storing_side_by_side_keep_the_total_exact(tmp_path: Path) -> None:
    cache = ThumbnailCache(tmp_path / "thumbs", max_bytes=10**9)
    _fill(cache, 2)
    cache.prune()  # the checkpoint the writers append to
    writers = [
        subprocess.Popen([sys.executable, "-c", _STORE, str(cache.root), str(number)], cwd=Path.cwd())
        for number in range(3)
    ]
    while any(writer.poll() is None for writer in writers):
        cache.prune()  # folds the changes while appends go on
    assert [writer.returncode for writer in writers] == [0, 0, 0]
    assert cache.prune().remaining_bytes == cache.total_bytes()


def test_a_store_over_an_existing_thumbnail_counts_only_the_difference(tmp_path: Path) -> None:
    cache = ThumbnailCache(tmp_path / "thumbs", max_bytes=10**9)
    _fill(cache, 1)
    cache.prune()
    cache.store(_key(0), "grid", Image.new("RGB", (300, 200), (10, 200, 30)))  # the same key, stored again
    assert cache.prune().remaining_bytes == cache.total_bytes()
