"""The catalog's schema revisions, read from the migration files without importing Alembic.

Every open compares the catalog's ``alembic_version`` row with the newest revision. Asking Alembic cost every
process 0.25 s (it imports itself, Mako and every migration script) to learn that nothing needs doing; the
revision ids sit in each script as plain ``revision = "0002"`` / ``down_revision = "0001"`` lines, so reading
those is enough. Anything this reader does not understand (a merge revision, a file without those lines, no
sources at all) hands the question back to Alembic, so the answer is always Alembic's; a test compares the two.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

_REVISION = re.compile(r"""^revision\s*(?::[^=\n]*)?=\s*['"]([^'"\n]+)['"]\s*(?:#.*)?$""", re.MULTILINE)
_DOWN = re.compile(r"""^down_revision\s*(?::[^=\n]*)?=\s*(?:None|['"]([^'"\n]+)['"])\s*(?:#.*)?$""", re.MULTILINE)


def _parent_of(text: str) -> tuple[str, str | None] | None:
    """(revision, down_revision) of one migration script, or None where it is not the plain one-line form."""
    revisions, downs = _REVISION.findall(text), list(_DOWN.finditer(text))
    if len(revisions) != 1 or len(downs) != 1:
        return None
    return revisions[0], downs[0].group(1)


@functools.cache
def _graph() -> dict[str, str | None] | None:
    """revision -> down_revision for every script, or None where Alembic must be asked instead."""
    folder = MIGRATIONS_DIR / "versions"
    try:
        scripts = sorted(folder.glob("*.py"))
        texts = [script.read_text(encoding="utf-8") for script in scripts]
    except (OSError, UnicodeDecodeError):
        return None
    graph: dict[str, str | None] = {}
    for text in texts:
        pair = _parent_of(text)
        if pair is None or pair[0] in graph:
            return None
        graph[pair[0]] = pair[1]
    if not graph or any(down is not None and down not in graph for down in graph.values()):
        return None
    return graph


def _alembic_scripts() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR))


@functools.cache
def head_revision() -> str:
    """The newest schema revision this version writes."""
    graph = _graph()
    if graph is not None:
        heads = set(graph) - {down for down in graph.values() if down is not None}
        if len(heads) == 1:
            return heads.pop()
    head = _alembic_scripts().get_current_head()
    assert head is not None
    return str(head)


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every schema revision this version knows (a catalog at another one was written by a newer version)."""
    graph = _graph()
    if graph is not None:
        return frozenset(graph)
    return frozenset(rev.revision for rev in _alembic_scripts().walk_revisions())
