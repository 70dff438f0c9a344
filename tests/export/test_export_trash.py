"""Moving rejects to the trash, for real, through send2trash's freedesktop trash in a temporary folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from artimuse_desktop.catalog import queries
from artimuse_desktop.culling.decisions import set_decision
from artimuse_desktop.errors import ExportError
from artimuse_desktop.export.trash import move_rejects_to_trash, plan_trash
from tests.export.export_helpers import Library
from tests.factory import add_photo, write_jpeg


@pytest.fixture
def trash_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """send2trash's own freedesktop trash, pointed at XDG_DATA_HOME in tmp (it reads the variable at import,
    so its module constants are repointed too; a GIO-backed send2trash is swapped for the same code)."""
    import send2trash
    from send2trash import plat_other

    data_home = tmp_path / "xdg-data"
    data_home.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    monkeypatch.setenv("HOME", str(tmp_path))  # same device as the photos: the home trash is used
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(data_home))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(data_home / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(data_home / "Trash"))
    monkeypatch.setattr(send2trash, "send2trash", plat_other.send2trash)
    return data_home / "Trash"


def status_of(library: Library, photo_id: int) -> str:
    with library.catalog.read() as session:
        record = queries.get_photo(session, photo_id)
        assert record is not None
        return record.status


def test_rejects_and_their_own_sidecars_go_to_the_trash(library: Library, trash_dir: Path) -> None:
    reject = library.path("e_low.jpg")
    own_sidecar = library.path("e_low.jpg.xmp")
    own_sidecar.write_text("<x/>", encoding="utf-8")
    shared_sidecar = library.path("e_low.xmp")
    shared_sidecar.write_text("<y/>", encoding="utf-8")
    plan = plan_trash(library.catalog)
    assert plan.count == 1 and plan.file_count == 3
    result = move_rejects_to_trash(library.catalog, plan, confirm=plan.count)
    assert result.trashed == [library.ids["e_low.jpg"]] and not result.failures
    assert not reject.exists() and not own_sidecar.exists() and not shared_sidecar.exists()
    trashed = sorted(p.name for p in (trash_dir / "files").iterdir())
    assert trashed == ["e_low.jpg", "e_low.jpg.xmp", "e_low.xmp"]
    info = (trash_dir / "info" / "e_low.jpg.trashinfo").read_text()
    assert "Path=" in info and "e_low.jpg" in info
    assert status_of(library, library.ids["e_low.jpg"]) == "trashed"
    assert plan_trash(library.catalog).count == 0  # trashed photos are not planned again
    assert library.path("a_best.jpg").exists()


def test_a_rejected_jpeg_leaves_its_raw_partner_and_the_shared_sidecar(library: Library, trash_dir: Path) -> None:
    jpeg_id = library.ids["pair/IMG_0001.JPG"]
    set_decision(library.catalog, [jpeg_id], "flag", -1)
    set_decision(library.catalog, [library.ids["e_low.jpg"]], "flag", 0)
    plan = plan_trash(library.catalog)
    (item,) = plan.items
    assert item.sidecars == ()  # IMG_0001.xmp and .AAE stay with the RAW, IMG_0001.CR2.xmp is the RAW's
    result = move_rejects_to_trash(library.catalog, plan, confirm=1)
    assert result.trashed == [jpeg_id]
    pair = library.path("pair")
    assert sorted(p.name for p in pair.iterdir()) == [
        "IMG_0001.AAE",
        "IMG_0001.CR2",
        "IMG_0001.CR2.xmp",
        "IMG_0001.xmp",
    ]


def test_rejecting_both_halves_takes_the_shared_sidecars(library: Library, trash_dir: Path) -> None:
    set_decision(library.catalog, [library.ids["pair/IMG_0001.JPG"], library.ids["pair/IMG_0001.CR2"]], "flag", -1)
    plan = plan_trash(library.catalog, [library.ids["pair/IMG_0001.JPG"], library.ids["pair/IMG_0001.CR2"]])
    assert plan.count == 2
    move_rejects_to_trash(library.catalog, plan, confirm=2)
    assert list(library.path("pair").iterdir()) == []


def test_confirmation_must_match_the_plan(library: Library, trash_dir: Path) -> None:
    plan = plan_trash(library.catalog)
    with pytest.raises(ExportError):
        move_rejects_to_trash(library.catalog, plan, confirm=plan.count + 1)
    with pytest.raises(ExportError):
        move_rejects_to_trash(library.catalog, plan, confirm=0)
    assert library.path("e_low.jpg").exists()
    assert not trash_dir.exists()


def test_failures_are_per_file_and_nothing_is_deleted(library: Library, trash_dir: Path, tmp_path: Path) -> None:
    second = write_jpeg(tmp_path / "photos" / "f_reject.jpg", 11)
    second_id = add_photo(library.catalog, second)
    set_decision(library.catalog, [second_id], "flag", -1)
    plan = plan_trash(library.catalog)
    assert plan.count == 2
    library.path("e_low.jpg").unlink()  # gone between plan and confirmation
    result = move_rejects_to_trash(library.catalog, plan, confirm=2)
    assert [f.path for f in result.failures] == [library.path("e_low.jpg")]
    assert result.trashed == [second_id]
    assert status_of(library, library.ids["e_low.jpg"]) == "ok"
    assert status_of(library, second_id) == "trashed"


def test_a_photo_no_longer_rejected_is_skipped(library: Library, trash_dir: Path) -> None:
    plan = plan_trash(library.catalog)
    set_decision(library.catalog, [library.ids["e_low.jpg"]], "flag", 0)
    result = move_rejects_to_trash(library.catalog, plan, confirm=plan.count)
    assert result.trashed == [] and result.skipped == [(library.ids["e_low.jpg"], "no longer rejected")]
    assert library.path("e_low.jpg").exists()
