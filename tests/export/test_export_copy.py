"""Exporting for real: verified copies, links, collisions, companions, dry runs, cancel and failures.

Every test checks at the end that the originals' bytes and mtimes are exactly as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.errors import ExportError
from artimuse_desktop.export import copier
from artimuse_desktop.export.copier import ExportProgress, execute_plan
from artimuse_desktop.export.plan import build_plan
from artimuse_desktop.export.selection import Selection, select_photos
from tests.export.export_helpers import Library, all_files, digest, snapshot
from tests.factory import add_photo, write_jpeg


@pytest.fixture
def originals(library: Library) -> Iterator[dict[Path, tuple[str, int]]]:
    before = snapshot(library.files)
    yield before
    assert snapshot(library.files) == before, "an original changed"


def leftovers(dest: Path) -> list[Path]:
    return [p for p in all_files(dest) if p.name.endswith(".partial") or p.name.endswith(".tmp")]


def test_copy_is_verified_and_keeps_mtimes(library: Library, originals: object, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    photos = select_photos(library.catalog, Selection(top=3))
    plan = build_plan(photos, dest, template="{rank}_{original}")
    result = execute_plan(plan)
    assert result.ok and len(result.exported) == 3
    names = sorted(p.name for p in all_files(dest))
    assert names == sorted(
        [
            "001_a_best.jpg",
            "002_IMG_0001.CR2",
            "002_IMG_0001.JPG",
            "002_IMG_0001.xmp",
            "002_IMG_0001.CR2.xmp",
            "002_IMG_0001.AAE",
            "003_b_good.jpg",
        ]
    )
    for item in plan.items:
        for planned in item.files:
            assert digest(planned.destination) == digest(planned.source)
            assert planned.destination.stat().st_mtime_ns == planned.source.stat().st_mtime_ns
            assert not planned.destination.is_symlink()
            assert planned.destination.stat().st_ino != planned.source.stat().st_ino
    assert leftovers(dest) == []
    assert result.bytes_written == plan.total_bytes


def test_hardlink_and_symlink_modes(library: Library, originals: object, tmp_path: Path) -> None:
    photos = select_photos(library.catalog, Selection(top=2))
    hard = execute_plan(build_plan(photos, tmp_path / "hard", mode="hardlink"))
    assert hard.ok
    for item in hard.plan.items:
        for planned in item.files:
            assert os.path.samefile(planned.destination, planned.source)
    soft = execute_plan(build_plan(photos, tmp_path / "soft", mode="symlink"))
    assert soft.ok
    for item in soft.plan.items:
        for planned in item.files:
            assert planned.destination.is_symlink()
            assert Path(os.readlink(planned.destination)) == planned.source.absolute()
            assert digest(planned.destination) == digest(planned.source)


def test_collisions_never_overwrite(library: Library, originals: object, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "A_BEST.JPG").write_bytes(b"precious")  # differs only in case: a clash on macOS and Windows
    other = write_jpeg(tmp_path / "elsewhere" / "a_best.jpg", 42)  # same name, other folder
    other_id = add_photo(library.catalog, other)
    photos = select_photos(library.catalog, Selection(ids=[library.ids["a_best.jpg"], other_id]))
    result = execute_plan(build_plan(photos, dest))
    assert result.ok
    assert (dest / "A_BEST.JPG").read_bytes() == b"precious"
    assert digest(dest / "a_best (2).jpg") == digest(library.path("a_best.jpg"))
    assert digest(dest / "a_best (3).jpg") == digest(other)
    # Exporting the same again adds, never replaces.
    again = execute_plan(build_plan(photos, dest, suffix_style="dash"))
    assert [f.name for e in again.exported for f in e.files] == ["a_best-2.jpg", "a_best-3.jpg"]
    assert (dest / "A_BEST.JPG").read_bytes() == b"precious"


def test_a_file_appearing_after_planning_is_not_overwritten(library: Library, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    photos = select_photos(library.catalog, Selection(ids=[library.ids["a_best.jpg"], library.ids["b_good.jpg"]]))
    plan = build_plan(photos, dest)
    dest.mkdir()
    (dest / "a_best.jpg").write_bytes(b"arrived meanwhile")
    result = execute_plan(plan)
    assert (dest / "a_best.jpg").read_bytes() == b"arrived meanwhile"
    assert [f.destination for f in result.failures] == [dest / "a_best.jpg"]
    assert "not overwritten" in result.failures[0].reason
    assert (dest / "b_good.jpg").exists()
    assert leftovers(dest) == []


def test_templates_cannot_write_outside_dest(library: Library, originals: object, tmp_path: Path) -> None:
    evil = write_jpeg(tmp_path / "photos" / "..jpg", 7)  # stem "."
    evil_id = add_photo(library.catalog, evil, camera_make="../../../escape", camera_model="a/b\\c")
    dotdot = write_jpeg(tmp_path / "photos" / "...jpg", 8)  # stem ".."
    dotdot_id = add_photo(library.catalog, dotdot, camera_make="..", camera_model="..")
    dest = tmp_path / "deep" / "out"
    photos = select_photos(library.catalog, Selection(ids=[evil_id, dotdot_id]))
    result = execute_plan(build_plan(photos, dest, template="{camera}/{original}"))
    assert result.ok and len(result.exported) == 2
    written = [p for p in all_files(tmp_path) if p.is_relative_to(tmp_path / "deep")]
    assert written and all(p.is_relative_to(dest) for p in written)
    assert not (tmp_path / "escape").exists()
    assert not list(tmp_path.glob("deep/*.jpg"))


def test_raw_jpeg_pair_and_sidecars_travel_together(library: Library, originals: object, tmp_path: Path) -> None:
    # Both halves of the pair are selected: they are exported once, together, under the better rank's name.
    ids = [library.ids["pair/IMG_0001.JPG"], library.ids["pair/IMG_0001.CR2"]]
    photos = select_photos(library.catalog, Selection(ids=ids))
    plan = build_plan(photos, tmp_path / "out", template="{rank}-{original}")
    assert len(plan.items) == 1 and "exported with its partner" in plan.skipped[0].reason
    result = execute_plan(plan)
    names = sorted(p.name for p in all_files(tmp_path / "out"))
    assert names == [f"001-IMG_0001{s}" for s in (".AAE", ".CR2", ".CR2.xmp", ".JPG", ".xmp")]
    assert result.ok
    sidecar = tmp_path / "out" / "001-IMG_0001.CR2.xmp"
    assert sidecar.read_text() == "<!-- IMG_0001.CR2.xmp -->\n"
    lonely = build_plan(photos, tmp_path / "alone", companions=False, sidecars=False)
    assert [f.source.name for f in lonely.items[0].files] == ["IMG_0001.JPG"]


def test_dry_run_writes_nothing(library: Library, originals: object, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    plan = build_plan(select_photos(library.catalog, Selection(top=5)), dest, template="{rank}_{original}")
    lines = list(plan.describe())
    assert lines[0] == f"copy {library.path('a_best.jpg')} -> 001_a_best.jpg"
    assert any(line.startswith("    + copy") and line.endswith("002_IMG_0001.CR2.xmp") for line in lines)
    assert not dest.exists()


class CancelAfter(CancelToken):
    """Cancels itself after ``checks`` cancellation checks: lands in the middle of a file."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self.remaining = checks

    def wait_if_paused(self, timeout: float | None = None) -> bool:
        self.remaining -= 1
        if self.remaining <= 0:
            self.cancel()
        return super().wait_if_paused(timeout)


def test_cancel_mid_file_leaves_no_partial_files(
    library: Library, originals: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copier, "CHUNK", 256)  # many chunks per file, so the cancel lands inside one
    made: list[Path] = []
    real_partial_name = copier.partial_name

    def recording_partial_name(final: Path) -> Path:
        made.append(real_partial_name(final))
        return made[-1]

    monkeypatch.setattr(copier, "partial_name", recording_partial_name)
    dest = tmp_path / "out"
    plan = build_plan(select_photos(library.catalog, Selection(top=3)), dest)
    first_size = plan.items[0].size
    checks_for_first = 1 + first_size // 256 + 2 + 1
    result = execute_plan(plan, cancel=CancelAfter(checks_for_first + 5))
    assert result.cancelled
    assert [e.item.photo.rank for e in result.exported] == [1]
    assert leftovers(dest) == []
    # The cancel came while the RAW was half copied: its temporary file existed and is gone now.
    assert made[-1].name.startswith(".IMG_0001.CR2.") and not made[-1].exists()
    assert sorted(p.name for p in all_files(dest)) == ["a_best.jpg"]
    assert digest(dest / "a_best.jpg") == digest(library.path("a_best.jpg"))


def test_cancel_from_progress_stops_between_photos(library: Library, originals: object, tmp_path: Path) -> None:
    token = CancelToken()
    seen: list[ExportProgress] = []

    def progress(p: ExportProgress) -> None:
        seen.append(p)
        if p.done_items == 1:
            token.cancel()

    result = execute_plan(
        build_plan(select_photos(library.catalog, Selection(top=5)), tmp_path / "o"),
        cancel=token,
        progress=progress,
    )
    assert result.cancelled and len(result.exported) == 1
    assert all(isinstance(p.current, str) and p.total_items == 5 for p in seen)
    assert leftovers(tmp_path / "o") == []


def test_source_removed_mid_export_is_reported_and_leaves_nothing(library: Library, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    plan = build_plan(select_photos(library.catalog, Selection(top=3)), dest, template="{rank}_{original}")
    victim = plan.items[1].companions[0].source  # the pair's JPEG, second file of the second group

    def progress(p: ExportProgress) -> None:
        if p.current.endswith("002_IMG_0001.JPG") and victim.exists():
            victim.unlink()

    result = execute_plan(plan, progress=progress)
    assert [(f.source, f.photo_id) for f in result.failures] == [(victim, plan.items[1].photo.record.id)]
    assert "gone" in result.failures[0].reason
    names = sorted(p.name for p in all_files(dest))
    assert names == ["001_a_best.jpg", "003_b_good.jpg"]  # nothing of the failed group, not even its RAW
    assert leftovers(dest) == []


def test_blocked_folder_fails_that_photo_only(library: Library, originals: object, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "Canon EOS R5").write_bytes(b"a file where a folder should go")
    plan = build_plan(select_photos(library.catalog, Selection(top=5)), dest, template="{camera}/{original}")
    result = execute_plan(plan)
    failed = {f.source.name for f in result.failures}
    assert failed == {"a_best.jpg", "c_mid.jpg", "e_low.jpg"}
    assert len(list(dest.glob("*/b_good.jpg"))) == 1  # in the Nikon's folder, however naming spells it
    assert leftovers(dest) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores read-only permissions")
def test_read_only_dest_reports_every_file(library: Library, originals: object, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    dest.chmod(0o555)
    try:
        result = execute_plan(build_plan(select_photos(library.catalog, Selection(top=2)), dest))
        assert len(result.failures) == 2 and not result.exported
        assert list(dest.iterdir()) == []
    finally:
        dest.chmod(0o755)


def test_unwritable_dest_root_raises_export_error(library: Library, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"x")
    with pytest.raises(ExportError):
        execute_plan(build_plan(select_photos(library.catalog, Selection(top=1)), blocker / "out"))


def test_verification_failure_leaves_nothing(
    library: Library, originals: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copier, "_digest_file", lambda path, cancel: (path.stat().st_size, b"wrong"))
    dest = tmp_path / "out"
    result = execute_plan(build_plan(select_photos(library.catalog, Selection(top=1)), dest))
    assert len(result.failures) == 1 and "verification failed" in result.failures[0].reason
    assert all_files(dest) == []


def test_missing_and_trashed_photos_are_skipped(library: Library, tmp_path: Path) -> None:
    gone = add_photo(library.catalog, tmp_path / "photos" / "never_there.jpg")
    photos = select_photos(library.catalog, Selection(ids=[gone, library.ids["a_best.jpg"]]))
    plan = build_plan(photos, tmp_path / "out")
    assert [s.photo.record.id for s in plan.skipped] == [gone]
    assert len(plan.items) == 1
