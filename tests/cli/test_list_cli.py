"""``artimuse-desktop list``: sorting, every filter, and complete machine-readable JSON/CSV output."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from artimuse_desktop import cli
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import Photo
from artimuse_desktop.catalog.records import PhotoRecord
from artimuse_desktop.library.indexer import index_roots
from tests.factory import add_assessment
from tests.library import imagefactory as images


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIMUSE_HOME", str(tmp_path / "home"))
    for name in ("ARTIMUSE_CATALOG", "ARTIMUSE_DATA_DIR", "ARTIMUSE_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)


PHOTOS = {
    # name: (make, model, lens, captured, flag, rating, label, score, composition, sharpness)
    "alps.jpg": ("Canon", "EOS R5", "RF24-70mm", datetime(2024, 5, 1, 9, 0), 1, 5, "red", 82.0, 8.5, 0.9),
    "beach.jpg": ("NIKON", "Z 8", "NIKKOR Z 50mm", datetime(2024, 5, 2, 10, 0), 0, 3, None, 64.5, 6.0, 0.4),
    "city.jpg": ("Canon", "EOS R6", "RF50mm", datetime(2024, 6, 3, 11, 0), -1, 1, "blue", None, None, 0.7),
    "sub/dog.jpg": ("SONY", "ILCE-7M4", "FE 85mm", datetime(2024, 7, 4, 12, 0), 0, 0, None, 71.0, 7.2, None),
}


def _add_assessment(catalog: Catalog, photo_id: int, score: float | None, comp: float | None, sharp: float | None):
    attributes = {"Composition & Design": (comp, "strong leading lines")} if comp is not None else None
    measures = {"sharpness": sharp} if sharp is not None else {}
    add_assessment(catalog, photo_id, "technical", score, attributes=attributes, measures=measures, version="1")


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    library = tmp_path / "photos"
    for seed, (name, (make, model, lens, when, *_rest)) in enumerate(PHOTOS.items()):
        exif = images.make_exif(make=make, model=model, lens=lens, captured=when, subsec=None)
        images.save(images.photo_like(200, 150, seed=seed), library / name, exif=exif)
    images.truncated_jpeg(library / "cut.jpg", size=(300, 200))
    images.save(images.photo_like(200, 150, seed=9), library / "gone.jpg")
    path = tmp_path / "catalog.sqlite"
    with Catalog(path) as catalog:
        index_roots(catalog, [library], thumbnails=False)
        (library / "gone.jpg").unlink()
        index_roots(catalog, [library], thumbnails=False)  # gone.jpg -> missing
        with catalog.write() as session:
            for photo in session.execute(select(Photo)).scalars():
                key = os.path.relpath(photo.path, library)
                if key in PHOTOS:
                    *_head, flag, rating, label, _s, _c, _m = PHOTOS[key]
                    photo.flag, photo.rating, photo.color_label = flag, rating, label
        with catalog.read() as session:
            ids = {os.path.relpath(p.path, library): p.id for p in session.execute(select(Photo)).scalars()}
        for key, (*_head, score, comp, sharp) in PHOTOS.items():
            _add_assessment(catalog, ids[key], score, comp, sharp)
    return path


def _json(catalog_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert cli.main(["--catalog", str(catalog_path), "list", "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def _names(rows: list[dict[str, object]]) -> list[str]:
    return [str(row["filename"]) for row in rows]


def test_json_is_complete_and_default_sort_is_capture_time(
    catalog_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _json(catalog_path, capsys)
    assert set(rows[0]) == {field.name for field in dataclasses.fields(PhotoRecord)}
    assert _names(rows)[:4] == ["alps.jpg", "beach.jpg", "city.jpg", "dog.jpg"]  # undated last
    assert set(_names(rows)) == {"alps.jpg", "beach.jpg", "city.jpg", "dog.jpg", "cut.jpg", "gone.jpg"}
    alps = rows[0]
    assert alps["captured_at"] == "2024-05-01T09:00:00"
    assert alps["score"] == 82.0 and alps["score_model"] == "technical"
    assert alps["flag"] == 1 and alps["rating"] == 5 and alps["color_label"] == "red"
    city = next(row for row in rows if row["filename"] == "city.jpg")
    assert city["score"] is None


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("score", ["beach.jpg", "dog.jpg", "alps.jpg"]),
        ("-score", ["alps.jpg", "dog.jpg", "beach.jpg"]),
        ("attr:Composition & Design", ["beach.jpg", "dog.jpg", "alps.jpg"]),
        ('attr:"composition":desc', ["alps.jpg", "dog.jpg", "beach.jpg"]),
        ("measure:sharpness", ["beach.jpg", "city.jpg", "alps.jpg"]),
        ("-rating", ["alps.jpg", "beach.jpg", "city.jpg"]),
        ("filename", ["alps.jpg", "beach.jpg", "city.jpg"]),
    ],
)
def test_sorting(catalog_path: Path, capsys: pytest.CaptureFixture[str], sort: str, expected: list[str]) -> None:
    assert _names(_json(catalog_path, capsys, "--sort", sort))[:3] == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--rating", "3"], {"beach.jpg"}),
        (["--min-rating", "3"], {"alps.jpg", "beach.jpg"}),
        (["--flag", "pick"], {"alps.jpg"}),
        (["--flag", "reject", "--flag", "pick"], {"alps.jpg", "city.jpg"}),
        (["--label", "red", "--label", "blue"], {"alps.jpg", "city.jpg"}),
        (["--camera", "canon"], {"alps.jpg", "city.jpg"}),
        (["--camera", "z 8"], {"beach.jpg"}),
        (["--lens", "rf"], {"alps.jpg", "city.jpg"}),
        (["--from", "2024-05-02", "--to", "2024-06-03"], {"beach.jpg", "city.jpg"}),
        (["--to", "2024-05-01"], {"alps.jpg"}),  # a date alone means the whole day
        (["--errors"], {"cut.jpg"}),
        (["--missing"], {"gone.jpg"}),
        (["--errors", "--missing"], {"cut.jpg", "gone.jpg"}),
        (["--min-score", "70"], {"alps.jpg", "dog.jpg"}),
        (["--max-score", "70"], {"beach.jpg"}),
        (["--min", "Composition & Design=7"], {"alps.jpg", "dog.jpg"}),
        (["--min", "composition=7", "--max", "composition=8"], {"dog.jpg"}),
        (["--min", "sharpness=0.5"], {"alps.jpg", "city.jpg"}),
        (["--max", "sharpness=0.5"], {"beach.jpg"}),
        (["--search", "leading lines"], {"alps.jpg", "beach.jpg", "dog.jpg"}),
        (["--search", "city"], {"city.jpg"}),
        (["--camera", "canon", "--min-rating", "2"], {"alps.jpg"}),
    ],
)
def test_filters(catalog_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: set[str]) -> None:
    assert set(_names(_json(catalog_path, capsys, *args))) == expected


def test_folder_filter_and_limit(catalog_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _names(_json(catalog_path, capsys, "--folder", str(tmp_path / "photos" / "sub"))) == ["dog.jpg"]
    os.chdir(tmp_path / "photos")
    assert _names(_json(catalog_path, capsys, "--folder", "sub")) == ["dog.jpg"]  # relative to the cwd
    assert len(_json(catalog_path, capsys, "--limit", "2")) == 2


def test_csv_is_complete(catalog_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--catalog", str(catalog_path), "list", "--format", "csv", "--sort", "-score"]) == 0
    reader = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert reader.fieldnames == [field.name for field in dataclasses.fields(PhotoRecord)]
    rows = list(reader)
    assert len(rows) == 6
    assert rows[0]["filename"] == "alps.jpg" and float(rows[0]["score"]) == 82.0
    assert rows[0]["captured_at"] == "2024-05-01T09:00:00"
    city = next(row for row in rows if row["filename"] == "city.jpg")
    assert city["score"] == "" and city["color_label"] == "blue"


def test_table_is_aligned_and_shows_absent_scores_as_a_dash(
    catalog_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--catalog", str(catalog_path), "list", "--sort", "filename"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, rows, footer = lines[0], lines[1:-1], lines[-1]
    assert header.split()[:3] == ["ID", "SCORE", "FLAG"]
    assert footer == "(6 photos)"
    path_column = header.index("PATH")
    assert all(row[path_column - 1] == " " and row[path_column] == "/" for row in rows)
    city = next(row for row in rows if "city.jpg" in row)
    assert "—" in city and "reject" in city and "blue" in city
    alps = next(row for row in rows if "alps.jpg" in row)
    assert "82.00" in alps and "EOS R5" in alps and "2024-05-01 09:00:00" in alps
    cut = next(row for row in rows if "cut.jpg" in row)
    assert "error" in cut and "(truncated JPEG file" in cut


def test_bad_arguments(catalog_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--catalog", str(catalog_path), "list", "--sort", "sharpness"]) == 2
    assert "unknown sort key" in capsys.readouterr().err
    for args in (["--rating", "6"], ["--flag", "maybe"], ["--min", "sharpness"], ["--from", "yesterday"]):
        with pytest.raises(SystemExit) as info:
            cli.main(["--catalog", str(catalog_path), "list", *args])
        assert info.value.code == 2


def test_a_missing_catalog_is_an_error_not_a_new_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--catalog", str(tmp_path / "none.sqlite"), "list"]) == 2
    assert "no catalog" in capsys.readouterr().err
    assert not (tmp_path / "none.sqlite").exists()


def test_undecodable_names_stay_valid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    library = tmp_path / "photos"
    library.mkdir()
    raw = os.fsencode(library) + b"/caf\xe9.jpg"
    with open(raw, "wb") as handle:
        handle.write(images.jpeg_bytes(images.photo_like(32, 24)))
    path = tmp_path / "c.sqlite"
    with Catalog(path) as catalog:
        index_roots(catalog, [library], thumbnails=False)
    rows = _json(path, capsys)
    assert os.fsencode(str(rows[0]["path"])) == raw  # lossless round trip through \\udcXX escapes
    assert rows[0]["filename"] == "caf\ufffd.jpg"
    assert cli.main(["--catalog", str(path), "list"]) == 0
    assert "caf\ufffd.jpg" in capsys.readouterr().out
