"""``artimuse-desktop duplicates``: groups as a table and JSON, --exact-only, --max-distance, --keep-best (one
undo), and the refusals (a read-only catalog, a distance beyond the hash, no catalog at all).

The catalog is made by the real ``index`` command over real photographs on disk (``duplicate_library``)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from artimuse_desktop import cli
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import Photo
from artimuse_desktop.commands import duplicates as command
from artimuse_desktop.culling import bursts, decisions, duplicates
from artimuse_desktop.vocabulary import FLAG_REJECT
from tests.culling.duplicate_library import Library, write_library


@pytest.fixture
def library(tmp_path: Path) -> Library:
    return write_library(tmp_path / "photos")


@pytest.fixture
def catalog_path(tmp_path: Path, library: Library, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "catalog.sqlite"
    assert cli.main(["--catalog", str(path), "index", "--quiet", "--no-previews", str(library.root)]) == 0
    capsys.readouterr()
    return path


def run(catalog_path: Path, *args: str) -> int:
    return cli.main(["--catalog", str(catalog_path), "duplicates", *args])


def flags(path: Path) -> dict[str, int]:
    with Catalog(path) as catalog, catalog.read() as session:
        return {Path(p).name: flag for p, flag in session.execute(select(Photo.path, Photo.flag))}


def test_the_table_lists_each_group_with_the_kept_photo_and_why(
    catalog_path: Path, library: Library, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(catalog_path) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["GROUP", "KIND", "ID", "KEEP-BEST"]
    keep_lines = [line for line in lines[1:-1] if line.split()[3] == "keep"]
    assert len(keep_lines) == 2
    assert any(
        str(library.original) in line and "(kept: the camera's original, not a copy)" in line for line in keep_lines
    )
    assert any(str(library.cat_raw) in line and "RAW of the RAW+JPEG pair" in line for line in keep_lines)
    assert str(library.crop) not in out and "astronaut" not in out
    byte_copy = next(line for line in lines if line.endswith(str(library.byte_copy)))
    assert " exact " in byte_copy and " reject " in byte_copy
    assert lines[-1] == "(2 groups, 7 photos; keep best rejects 5 of 10 compared)"


def test_json_carries_every_group_and_photo(
    catalog_path: Path, library: Library, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(catalog_path, "--format", "json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["photos_compared"] == 10 and document["duplicates"] == 5
    by_kept = {Path(next(p["path"] for p in g["photos"] if p["keep"])).name: g for g in document["groups"]}
    coffee = by_kept["DSC_0001.JPG"]
    assert coffee["kind"] == "near" and len(coffee["photos"]) == 5
    assert coffee["photos"][0]["keep"] and coffee["photos"][0]["id"] == coffee["kept_id"]
    assert {Path(p["path"]) for p in coffee["photos"]} == library.coffee_group
    copy = next(p for p in coffee["photos"] if Path(p["path"]) == library.byte_copy)
    assert copy["same_content"] and copy["distance"] == 0 and copy["width"] == 600


def test_exact_only_and_max_distance(catalog_path: Path, library: Library, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(catalog_path, "--exact-only", "--format", "json") == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    assert [{Path(p["path"]) for p in g["photos"]} for g in groups] == [{library.original, library.byte_copy}]
    assert groups[0]["kind"] == "exact"
    assert run(catalog_path, "--max-distance", "0", "--format", "json") == 0
    paths = {Path(p["path"]) for g in json.loads(capsys.readouterr().out)["groups"] for p in g["photos"]}
    assert library.cat_raw not in paths and library.web_export in paths


def test_keep_best_rejects_the_rest_once_and_one_undo_restores_them(
    catalog_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = flags(catalog_path)
    assert run(catalog_path, "--keep-best") == 0
    out = capsys.readouterr().out
    assert (
        out.splitlines()[-1] == "Rejected 5 duplicates in 2 group(s) (one step: Edit > Undo in the app restores them)."
    )
    after = flags(catalog_path)
    rejected = {name for name, flag in after.items() if flag == FLAG_REJECT}
    assert rejected == {"DSC_0001 (2).JPG", "DSC_0001.jpg", "DSC_0001 copy.jpg", "DSC_0001-Edit.jpg", "IMG_2000.JPG"}
    assert run(catalog_path, "--keep-best") == 0
    assert "Rejected 0 duplicates" in capsys.readouterr().out
    with Catalog(catalog_path) as catalog:
        decisions.undo(catalog)
    assert flags(catalog_path) == before


def test_keep_best_with_json_keeps_stdout_valid_json(catalog_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(catalog_path, "--keep-best", "--format", "json") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["duplicates"] == 5 and "Rejected 5 duplicates" in captured.err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through read-only permissions")
def test_keep_best_refuses_a_read_only_catalog_and_listing_still_works(
    catalog_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog_path.chmod(stat.S_IRUSR)
    catalog_path.parent.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert run(catalog_path, "--keep-best") == 2
        assert "cannot be written" in capsys.readouterr().err
        assert run(catalog_path) == 0
    finally:
        catalog_path.parent.chmod(stat.S_IRWXU)
        catalog_path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_a_read_only_catalog_is_refused_for_keep_best(
    catalog_path: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """As root (the test machines) file permissions do not bind, so the catalog is put on a read-only mount."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount")
    import shutil
    import subprocess

    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        copy = mount / "catalog.sqlite"
        shutil.copyfile(catalog_path, copy)
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        assert run(copy, "--keep-best") == 2
        assert "cannot be written" in capsys.readouterr().err
        assert run(copy) == 0
        assert "(2 groups, 7 photos" in capsys.readouterr().out
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_bad_arguments_and_no_catalog_get_a_clear_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(tmp_path / "catalog.sqlite", "--max-distance", "40")
    assert exit_info.value.code == 2 and "at most 32" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(tmp_path / "catalog.sqlite", "--max-distance", "many")
    assert "not a number" in capsys.readouterr().err
    assert run(tmp_path / "nothing.sqlite") == 2
    assert "no catalog" in capsys.readouterr().err


def test_an_empty_library_lists_no_group(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "catalog.sqlite"
    Catalog(path).close()
    assert run(path) == 0
    assert capsys.readouterr().out == "(0 groups, 0 photos; keep best rejects 0 of 0 compared)\n"


def test_the_command_line_defaults_agree_with_the_culling_code() -> None:
    assert command.DEFAULT_MAX_DISTANCE == bursts.DEFAULT_MAX_DISTANCE
    assert duplicates.MAX_DISTANCE_LIMIT == 32
