"""What a process imports before it does its work: ``--help`` nothing heavy, opening a current catalog no Alembic
and no ORM models, indexing one new photo into an existing SQLite catalog no SQLAlchemy at all (raw SQL,
``catalog.dbapi``), the first perceptual hash no SciPy. Each check runs in a fresh interpreter, since this one
has imported everything already. The times themselves are measured by ``bench/bench_startup.py``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from artimuse_desktop.catalog import Catalog
from tests.fresh_interpreter import loaded_after
from tests.images import write_jpeg

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sqlalchemy", "alembic", "scipy", "PySide6", "torch", "transformers", "numpy", "PIL", "imagehash")
NEVER_AT_OPEN = ("alembic", "sqlalchemy.orm", "artimuse_desktop.catalog.models", "artimuse_desktop.catalog.upgrade")


def heavy(modules: set[str], names: tuple[str, ...] = HEAVY) -> set[str]:
    return {name for name in modules if any(name == top or name.startswith(f"{top}.") for top in names)}


_HELP = """
import contextlib, io, sys
from artimuse_desktop.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
    main(sys.argv[1:])
assert "usage:" in out.getvalue(), out.getvalue()
"""


@pytest.mark.parametrize(
    "argv", [["--help"], ["--version"], ["list", "--help"], ["index", "--help"], ["export", "--help"]]
)
def test_help_imports_nothing_heavy(argv: list[str]) -> None:
    code = _HELP if argv != ["--version"] else _HELP.replace('assert "usage:"', 'assert "artimuse-desktop"')
    modules = loaded_after(code, *argv)
    assert heavy(modules) == set()
    assert "artimuse_desktop.logfile" not in modules  # the log file is set up after the arguments parse


_OPEN = """
import sys
from artimuse_desktop.catalog.db import open_catalog, open_catalog_for_reading
opener = open_catalog_for_reading if sys.argv[2] == "read" else open_catalog
with opener(sys.argv[1]) as catalog:
    assert catalog.schema_revision is not None
"""


@pytest.mark.parametrize("how", ["read", "write"])
def test_opening_a_current_catalog_imports_neither_alembic_nor_the_models(tmp_path: Path, how: str) -> None:
    path = tmp_path / "catalog.sqlite"
    Catalog(path).close()
    modules = loaded_after(_OPEN, str(path), how)
    assert heavy(modules, NEVER_AT_OPEN) == set()
    assert heavy(modules, ("scipy", "PySide6", "torch", "numpy", "PIL")) == set()


def test_the_first_session_brings_the_models_and_an_old_catalog_brings_alembic(tmp_path: Path) -> None:
    current = tmp_path / "current.sqlite"
    Catalog(current).close()
    reading = _OPEN + (
        "import sqlalchemy\n"
        "with open_catalog(sys.argv[1]).read() as session:\n    session.execute(sqlalchemy.text('SELECT 1'))\n"
    )
    modules = loaded_after(reading, str(current), "write")
    assert {"sqlalchemy.orm", "artimuse_desktop.catalog.models"} <= modules and "alembic" not in modules

    old = tmp_path / "old.sqlite"
    shutil.copy(ROOT / "tests" / "data" / "catalog-0001.sqlite", old)
    assert "alembic" in loaded_after(_OPEN, str(old), "write")  # the upgrade needs it, and runs
    with Catalog(old) as upgraded:
        from artimuse_desktop.catalog.revisions import head_revision

        assert upgraded.schema_revision == head_revision()


_LIST = """
import sys
from artimuse_desktop.cli import main
assert main(["--catalog", sys.argv[1], "list", "--format", "json"]) == 0
"""


def test_list_on_a_current_catalog_needs_no_alembic(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    Catalog(path).close()
    modules = loaded_after(_LIST, str(path))
    assert heavy(modules, ("alembic", "scipy", "PySide6", "torch", "imagehash")) == set()


_PHASH = """
import os, sys
from artimuse_desktop.library.analyse import AnalyseTask, analyse
stat = os.stat(sys.argv[1])
result = analyse(AnalyseTask(sys.argv[1], stat.st_size, stat.st_mtime))
assert result.error is None and result.phash and len(result.phash) == 16, result
"""


def test_the_indexers_first_perceptual_hash_imports_no_scipy(tmp_path: Path) -> None:
    photo = write_jpeg(tmp_path / "photo.jpg", 800, 600)
    modules = loaded_after(_PHASH, str(photo))
    assert heavy(modules, ("scipy", "imagehash", "pywt", "sqlalchemy", "alembic", "PySide6", "torch")) == set()


_INDEX = """
import sys
from artimuse_desktop.cli import main
assert main(["--catalog", sys.argv[1], "index", "--quiet", sys.argv[2]]) == 0
"""

#: What the index command's path must never import on a current SQLite catalog: it runs raw SQL (``catalog.dbapi``;
#: issue 14: one new photo into a 50,000-photo catalog within 0.5 s, the whole command in a fresh process, where
#: importing SQLAlchemy alone cost more than half of that).
NEVER_IN_INDEX = (
    "alembic",
    "sqlalchemy",
    "artimuse_desktop.catalog.models",
    "artimuse_desktop.catalog.upgrade",
    "artimuse_desktop.catalog.tables",
)


def _indexed_paths(path: Path) -> list[str]:
    from sqlalchemy import select

    from artimuse_desktop.catalog.constants import STATUS_OK
    from artimuse_desktop.catalog.tables import photos

    with Catalog(path) as catalog, catalog.connect_read() as connection:
        rows = connection.execute(select(photos.c.path).where(photos.c.status == STATUS_OK).order_by(photos.c.path))
        return [os.path.basename(str(row_path)) for (row_path,) in rows]


def test_indexing_one_new_photo_imports_neither_the_orm_nor_the_models(tmp_path: Path) -> None:
    catalog, library = tmp_path / "catalog.sqlite", tmp_path / "library"
    write_jpeg(library / "a.jpg", 640, 480, seed=1)
    write_jpeg(library / "sub" / "b.jpg", 640, 480, seed=2)
    first = loaded_after(_INDEX, str(catalog), str(library))  # a new catalog: created, then indexed
    assert "alembic" in first  # the catalog's creation needs it
    assert _indexed_paths(catalog) == ["a.jpg", "b.jpg"]

    write_jpeg(library / "sub" / "c.jpg", 640, 480, seed=3)
    modules = loaded_after(_INDEX, str(catalog), str(library))
    assert heavy(modules, NEVER_IN_INDEX) == set()
    assert heavy(modules, ("scipy", "imagehash", "PySide6", "torch", "numpy")) == set()
    assert _indexed_paths(catalog) == ["a.jpg", "b.jpg", "c.jpg"]

    unchanged = loaded_after(_INDEX, str(catalog), str(library))
    assert heavy(unchanged, NEVER_IN_INDEX) == set()
    assert _indexed_paths(catalog) == ["a.jpg", "b.jpg", "c.jpg"]


def test_a_new_a_moved_and_a_sidecar_photo_are_indexed_without_sqlalchemy(tmp_path: Path) -> None:
    from sqlalchemy import select

    from artimuse_desktop.catalog.tables import photos

    catalog, library = tmp_path / "catalog.sqlite", tmp_path / "library"
    for seed, name in enumerate(("a.jpg", "b.jpg", "c.jpg"), start=1):
        write_jpeg(library / "old" / name, 640, 480, seed=seed)
    loaded_after(_INDEX, str(catalog), str(library))  # a catalog that already holds photos
    assert _indexed_paths(catalog) == ["a.jpg", "b.jpg", "c.jpg"]

    (library / "new").mkdir()
    os.rename(library / "old" / "b.jpg", library / "new" / "b.jpg")  # moved: keeps its row
    write_jpeg(library / "new" / "d.jpg", 640, 480, seed=4)  # new, with a sidecar
    (library / "new" / "d.xmp").write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="4" xmp:Label="Red"/>'
        "</rdf:RDF></x:xmpmeta>"
    )
    with Catalog(catalog) as opened, opened.connect_read() as connection:
        before = dict(connection.execute(select(photos.c.filename, photos.c.id)).all())
    modules = loaded_after(_INDEX, str(catalog), str(library))
    assert heavy(modules, NEVER_IN_INDEX) == set()
    assert heavy(modules, ("scipy", "imagehash", "PySide6", "torch", "numpy")) == set()
    with Catalog(catalog) as opened, opened.connect_read() as connection:
        rows = connection.execute(
            select(photos.c.filename, photos.c.id, photos.c.path, photos.c.rating, photos.c.color_label)
        ).all()
    found = {
        name: (row_id, os.path.relpath(path, library), rating, label) for name, row_id, path, rating, label in rows
    }
    assert found["b.jpg"] == (before["b.jpg"], os.path.join("new", "b.jpg"), 0, None)  # the same row, moved
    assert found["d.jpg"][1:] == (os.path.join("new", "d.jpg"), 4, "red")
    assert set(found) == {"a.jpg", "b.jpg", "c.jpg", "d.jpg"}
