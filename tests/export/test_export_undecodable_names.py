"""File names that are not valid UTF-8, end to end: indexed, exported, and every report written and readable.

Such a name (``bad-\\xff\\xfe-utf8.jpg``) is a ``str`` with surrogate escapes in Python; writing it as UTF-8
used to abort the reports after the copies were made. CSV and HTML show U+FFFD where the bad bytes are, JSON
shows the same and keeps the exact bytes in ``*_bytes_b64`` fields, only for the names that need them (the
copies' own names are made portable by ``export.naming``, so it is the source paths and the folder that do).
"""

from __future__ import annotations

import base64
import csv
import json
import os
from pathlib import Path

import pytest

from artimuse_desktop import cli
from tests.factory import write_jpeg

BAD_NAME = b"bad-\xff\xfe-utf8.jpg"
BAD_FOLDER = b"trip-\xe9t\xe9"  # Latin-1 "été": not UTF-8 either
BAD_DEST = b"out-\xff"


def fs(raw: bytes) -> str:
    return os.fsdecode(raw)


def shown(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


@pytest.fixture
def exported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A library with two undecodable names and a plain one, indexed and exported with all three reports."""
    library = tmp_path / "photos"
    write_jpeg(library / "good.jpg", 1)
    write_jpeg(library / fs(BAD_NAME), 2)
    write_jpeg(library / fs(BAD_FOLDER) / "inside.jpg", 3)
    assert os.path.exists(os.path.join(os.fsencode(library), BAD_NAME))  # a real file with that byte name
    catalog = tmp_path / "catalog.sqlite"
    assert cli.main(["--catalog", str(catalog), "index", "--no-previews", str(library)]) == 0
    dest = tmp_path / fs(BAD_DEST)
    code = cli.main(["--catalog", str(catalog), "export", str(dest), "--all-filtered"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return dest


def read_json(dest: Path) -> dict[str, object]:
    raw = (dest / "artimuse-export.json").read_bytes()
    document: dict[str, object] = json.loads(raw.decode("utf-8"))  # strict UTF-8: no surrogates inside
    return document


def test_every_report_is_written_and_valid_utf8(exported: Path) -> None:
    names = sorted(os.listdir(os.fsencode(exported)))
    # The copies: export names are made portable (U+FFFD for the bad bytes, by export.naming).
    assert shown(BAD_NAME).encode() in names and b"good.jpg" in names and b"inside.jpg" in names
    for report in (b"artimuse-export.csv", b"artimuse-export.json", b"contact-sheet.html"):
        assert report in names
        (exported / os.fsdecode(report)).read_bytes().decode("utf-8")  # strict: raises on bad bytes
    assert not [n for n in names if n.endswith(b".partial")]


def test_csv_and_html_show_a_visible_replacement(exported: Path) -> None:
    with open(exported / "artimuse-export.csv", encoding="utf-8-sig", newline="") as handle:
        rows = {row["exported_name"]: row for row in csv.DictReader(handle)}
    bad = rows[shown(BAD_NAME)]
    assert "\ufffd\ufffd" in bad["exported_name"]
    assert bad["source_path"].endswith("/photos/" + shown(BAD_NAME))
    inside = next(row for row in rows.values() if row["exported_name"].endswith("inside.jpg"))
    assert shown(BAD_FOLDER) + "/inside.jpg" in inside["source_path"]
    assert rows["good.jpg"]["source_path"].endswith("/photos/good.jpg")

    page = (exported / "contact-sheet.html").read_text(encoding="utf-8")
    assert shown(BAD_NAME) in page and shown(BAD_FOLDER) in page and shown(BAD_DEST) in page
    assert page.count('src="data:image/jpeg;base64,') == 3  # the files were still found and thumbnailed


def test_json_keeps_the_exact_bytes_only_where_needed(exported: Path) -> None:
    document = read_json(exported)
    assert document["export_folder"] == shown(os.fsencode(exported))
    assert base64.b64decode(str(document["export_folder_bytes_b64"])) == os.fsencode(exported)
    photos = {photo["exported_name"]: photo for photo in document["photos"]}  # type: ignore[attr-defined]
    bad = photos[shown(BAD_NAME)]
    assert bad["source_path"].endswith("/photos/" + shown(BAD_NAME))
    source = base64.b64decode(bad["source_path_bytes_b64"])
    assert source.endswith(b"/photos/" + BAD_NAME) and os.path.isfile(source)  # finds the original again
    assert "exported_name_bytes_b64" not in bad  # the copy's name was made valid UTF-8 by the export
    assert os.path.isfile(os.path.join(os.fsencode(exported), bad["exported_name"].encode()))
    inside = next(photo for name, photo in photos.items() if name.endswith("inside.jpg"))
    assert "exported_name_bytes_b64" not in inside  # the exported name is plain ASCII
    assert BAD_FOLDER in base64.b64decode(inside["source_path_bytes_b64"])
    good = photos["good.jpg"]
    assert not [key for key in good if key.endswith("_bytes_b64")]
