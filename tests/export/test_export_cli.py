"""The ``export``, ``trash-rejects`` and ``xmp`` sub-commands, run through ``cli.main`` on a real catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from artimuse_desktop import cli
from artimuse_desktop.catalog import queries
from tests.export.export_helpers import Library, all_files, snapshot


def run(library: Library, *args: str) -> int:
    return cli.main(["--catalog", str(library.catalog.path), *args])


def test_export_top_with_template_and_reports(
    library: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(library.files)
    dest = tmp_path / "out"
    code = run(library, "export", str(dest), "--top", "2", "--template", "{rank}_{original}", "--report", "csv,json")
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "Export done: 2 photos (6 files" in out.out
    names = sorted(p.name for p in all_files(dest))
    assert "001_a_best.jpg" in names and "002_IMG_0001.CR2" in names and "artimuse-export.json" in names
    assert "contact-sheet.html" not in names
    assert json.loads((dest / "artimuse-export.json").read_text())["photos"][0]["rank"] == 1
    assert snapshot(library.files) == before


def test_export_filters_and_dry_run(library: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "out"
    code = run(library, "export", str(dest), "--filter", "rating>=3", "--filter", "camera=canon", "--dry-run")
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == f"copy {library.path('a_best.jpg')} -> a_best.jpg"
    assert "Dry run: would copy 1 photos" in out and "Nothing was written." in out
    assert not dest.exists()


def test_export_picks_with_symlinks(library: Library, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    assert run(library, "export", str(dest), "--picks", "--mode", "symlink", "--report", "none") == 0
    assert sorted(p.name for p in dest.iterdir()) == ["a_best.jpg", "c_mid.jpg"]
    assert all(p.is_symlink() for p in dest.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "choose what to export"),
        (["--filter", "rating>=lots"], "cannot understand the filter"),
        (["--top", "3", "--template", "/abs/{original}"], "must be relative"),
        (["--top", "3", "--report", "pdf"], "unknown report format"),
        (["--top", "3", "--by", "nonsense"], "unknown sort key"),
    ],
)
def test_export_usage_errors(
    library: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert run(library, "export", str(tmp_path / "out"), *args) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_trash_rejects_refuses_without_a_terminal(
    library: Library, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))  # piped input is not a confirmation
    assert run(library, "trash-rejects") == 2
    out = capsys.readouterr()
    assert "refusing to move 1 rejected photo" in out.err and "--yes" in out.err
    assert library.path("e_low.jpg").exists()
    assert run(library, "trash-rejects", "--dry-run") == 0
    assert "would move 1 rejected photo" in capsys.readouterr().out


def test_trash_rejects_with_yes(library: Library, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    import send2trash
    from send2trash import plat_other

    data_home = tmp_path / "xdg"
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(data_home))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(data_home / "Trash"))
    monkeypatch.setattr(send2trash, "send2trash", plat_other.send2trash)
    assert run(library, "trash-rejects", "--yes") == 0
    assert (data_home / "Trash" / "files" / "e_low.jpg").exists()
    with library.catalog.read() as session:
        assert queries.get_photo(session, library.ids["e_low.jpg"]).status == "trashed"  # type: ignore[union-attr]


def test_xmp_write_and_read(library: Library, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(library, "xmp", "write", "--filter", "flag=pick") == 0
    assert "wrote 2 sidecars (lightroom style)" in capsys.readouterr().out
    assert library.path("a_best.xmp").exists() and library.path("c_mid.xmp").exists()
    assert run(library, "xmp", "write", "--style", "darktable", "--filter", "label=red", "--dry-run") == 0
    out = capsys.readouterr().out
    assert str(library.path("a_best.jpg.xmp")) in out and not library.path("a_best.jpg.xmp").exists()
    library.path("d_unscored.xmp").write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4" xmp:Label="Blue"/>'
        "</rdf:RDF></x:xmpmeta>",
        encoding="utf-8",
    )
    code = run(library, "xmp", "read", "--filter", "score=none")
    captured = capsys.readouterr()
    assert "for 1 photos" in captured.out
    assert code == 1 and "unreadable:" in captured.err  # the pair's placeholder sidecar
    with library.catalog.read() as session:
        record = queries.get_photo(session, library.ids["d_unscored.jpg"])
        assert record is not None and (record.rating, record.color_label) == (4, "blue")


def test_xmp_without_action_prints_usage(library: Library, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(library, "xmp") == 2
    assert "write" in capsys.readouterr().err


def test_export_into_an_indexed_library_folder_needs_force(
    library: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The copies would be found by the next index of the library and catalogued as duplicates."""
    from artimuse_desktop.library.index_rows import ensure_roots

    ensure_roots(library.catalog, [str(library.root)])
    before = snapshot(library.files)
    dest = library.root / "best"
    assert run(library, "export", str(dest), "--top", "2") == 2
    err = capsys.readouterr().err
    assert f"{dest} is inside the indexed library folder {library.root}" in err
    assert "duplicates" in err and "--force" in err
    assert not dest.exists()
    assert run(library, "export", str(dest), "--top", "2", "--dry-run") == 0
    out = capsys.readouterr()
    assert "warning:" in out.err and "needs --force" in out.err and "Nothing was written." in out.out
    assert not dest.exists()
    via_link = tmp_path / "link-to-library"
    via_link.symlink_to(library.root)
    assert run(library, "export", str(via_link / "best"), "--top", "1") == 2  # a symlink into it counts
    assert "inside the indexed library folder" in capsys.readouterr().err
    assert run(library, "export", str(dest), "--top", "2", "--report", "none", "--force") == 0
    out = capsys.readouterr()
    assert "warning:" in out.err and "duplicates" in out.err and "Export done: 2 photos" in out.out
    assert snapshot(library.files) == before
    outside = tmp_path / "outside"
    assert run(library, "export", str(outside), "--top", "1", "--report", "none") == 0
    assert "indexed library" not in capsys.readouterr().err
