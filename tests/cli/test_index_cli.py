"""``artimuse-desktop index``: progress on stderr, a summary on stdout, exit 0 unless the command is unusable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from artimuse_desktop import cli
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.commands.index import ProgressPrinter, format_summary
from artimuse_desktop.imaging.thumbnails import ThumbnailCache
from artimuse_desktop.library.index_results import IndexProgress, IndexSummary
from tests.library import imagefactory as images


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("ARTIMUSE_HOME", str(home))
    for name in ("ARTIMUSE_CATALOG", "ARTIMUSE_DATA_DIR", "ARTIMUSE_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    images.save(images.photo_like(640, 480, seed=1), root / "a.jpg", exif=images.make_exif())
    images.save(images.photo_like(640, 480, seed=2), root / "trip" / "b.jpg", exif=images.make_exif())
    images.truncated_jpeg(root / "trip" / "cut.jpg")
    (root / "notes.jpg").write_text("not a photo\n" * 4)
    return root


def test_index_prints_progress_and_a_summary(library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog_path = tmp_path / "cat.sqlite"
    assert cli.main(["--catalog", str(catalog_path), "index", str(library)]) == 0
    out, err = capsys.readouterr()
    assert "new              2" in out
    assert "failed           2" in out
    assert f"{library / 'trip' / 'cut.jpg'}: truncated JPEG file" in out
    assert f"{library / 'notes.jpg'}: not an image (looks like text)" in out
    assert "previews         2  made" in out
    assert "indexing  [" in err and "2/4" not in out  # progress stays on stderr
    assert err.count("\r") == 0  # not a terminal: plain lines
    with Catalog(catalog_path) as catalog, catalog.read() as session:
        from sqlalchemy import func, select

        from artimuse_desktop.catalog.models import Photo

        assert session.execute(select(func.count()).select_from(Photo)).scalar_one() == 4
    cache = ThumbnailCache()  # the default location, under ARTIMUSE_HOME
    assert len(list(cache.root.rglob("*.jpg"))) == 4  # grid + preview of each good photo

    assert cli.main(["--catalog", str(catalog_path), "index", str(library)]) == 0
    out, _ = capsys.readouterr()
    assert "unchanged        2" in out and "new              0" in out
    assert "previews         0  made, 0 already there" in out  # nothing changed: no preview looked up

    assert cli.main(["--catalog", str(catalog_path), "index", "--full", str(library)]) == 0
    out, _ = capsys.readouterr()
    assert "previews         0  made, 2 already there" in out  # --full looks up every photo's preview


def test_default_catalog_comes_from_the_environment(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARTIMUSE_CATALOG", str(tmp_path / "env.sqlite"))
    assert cli.main(["index", "--no-previews", "--quiet", str(library)]) == 0
    out, err = capsys.readouterr()
    assert (tmp_path / "env.sqlite").is_file()
    assert err == ""  # --quiet
    assert "previews" not in out
    assert not list(ThumbnailCache().root.glob("preview/*/*.jpg"))


def test_workers_option(library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--catalog", str(tmp_path / "c.sqlite"), "index", "--workers", "1", str(library)]) == 0
    with pytest.raises(SystemExit) as info:
        cli.main(["--catalog", str(tmp_path / "c.sqlite"), "index", "--workers", "0", str(library)])
    assert info.value.code == 2


def test_usage_errors_exit_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--catalog", str(tmp_path / "c.sqlite"), "index"])
    assert info.value.code == 2
    assert cli.main(["--catalog", str(tmp_path / "c.sqlite"), "index", str(tmp_path / "nope")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert not (tmp_path / "c.sqlite").exists()  # nothing was created


def test_an_unusable_catalog_exits_non_zero(library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "not-a-catalog.sqlite"
    bogus.write_text("hello")
    assert cli.main(["--catalog", str(bogus), "index", str(library)]) == 2
    assert "not an ArtiMuse catalog" in capsys.readouterr().err
    assert bogus.read_text() == "hello"


def test_invalid_utf8_names_print_safely(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "photos"
    root.mkdir()
    with open(os.fsencode(root) + b"/bad\xff.jpg", "wb") as handle:
        handle.write(b"")
    assert cli.main(["--catalog", str(tmp_path / "c.sqlite"), "index", str(root)]) == 0
    out = capsys.readouterr().out
    assert "bad\ufffd.jpg: empty file (0 bytes)" in out


def test_runs_as_a_program_without_a_terminal(library: Path, tmp_path: Path) -> None:
    env = {**os.environ, "ARTIMUSE_HOME": str(tmp_path / "home2")}
    result = subprocess.run(
        [sys.executable, "-m", "artimuse_desktop", "--catalog", str(tmp_path / "p.sqlite"), "index", str(library)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "new              2" in result.stdout
    assert "indexing" in result.stderr


def test_progress_printer_on_a_terminal_redraws_one_line() -> None:
    class Terminal:
        def __init__(self) -> None:
            self.text = ""

        def write(self, text: str) -> None:
            self.text += text

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return True

        def fileno(self) -> int:
            raise OSError("not a real terminal")

    terminal = Terminal()
    printer = ProgressPrinter(terminal, interval=0)  # type: ignore[arg-type]
    for done in range(1, 4):
        printer(IndexProgress("index", done, 3, f"/photos/{done}.jpg", 10.0, 0.3))
    printer.close()
    assert terminal.text.count("\r") == 3 and terminal.text.endswith("\n")
    assert "3/3" in terminal.text and "[########################]" in terminal.text


def test_summary_lists_skipped_and_unreadable() -> None:
    summary = IndexSummary(
        roots=["/p"], new=1, skipped=[("/p/fifo", "named pipe (FIFO)")], unreadable=[("/p/locked", "permission denied")]
    )
    text = format_summary(summary)
    assert "/p/fifo: named pipe (FIFO)" in text
    assert "/p/locked: permission denied" in text
