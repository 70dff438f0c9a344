"""The schema revisions read from the migration files agree with Alembic's, and anything unusual is Alembic's
to answer (so a merge revision or an odd script never makes a current catalog look old, or an old one current)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from artimuse_desktop.catalog import revisions


def alembic_scripts() -> ScriptDirectory:
    return ScriptDirectory(str(revisions.MIGRATIONS_DIR))


def test_head_and_known_revisions_are_alembics() -> None:
    scripts = alembic_scripts()
    assert revisions.head_revision() == scripts.get_current_head()
    assert revisions.known_revisions() == {rev.revision for rev in scripts.walk_revisions()}
    assert revisions._graph() is not None  # read from the files, not asked of Alembic


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('revision = "0002"\ndown_revision = "0001"\n', ("0002", "0001")),
        ("revision = '0001'\ndown_revision = None\n", ("0001", None)),
        ('revision: str = "0003"\ndown_revision: Union[str, None] = "0002"  # the previous one\n', ("0003", "0002")),
        ('revision = "0004"\ndown_revision = ("0002", "0003")\n', None),  # a merge: Alembic's to answer
        ('down_revision = "0001"\n', None),
        ('revision = "a"\nrevision = "b"\ndown_revision = None\n', None),
    ],
)
def test_a_script_is_read_only_in_its_plain_form(text: str, expected: tuple[str, str | None] | None) -> None:
    assert revisions._parent_of(text) == expected


def test_scripts_it_cannot_read_are_left_to_alembic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "migrations"
    (folder / "versions").mkdir(parents=True)
    for script in (revisions.MIGRATIONS_DIR / "versions").glob("*.py"):
        (folder / "versions" / script.name).write_text(script.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "versions" / "9999_odd.py").write_text("revision = compute()\n", encoding="utf-8")
    monkeypatch.setattr(revisions, "MIGRATIONS_DIR", folder)
    revisions._graph.cache_clear()
    try:
        assert revisions._graph() is None
    finally:
        revisions._graph.cache_clear()
