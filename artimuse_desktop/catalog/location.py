"""Where a catalog lives: a SQLite file (a path) or a PostgreSQL database (a URL), told apart before any ``Path``.

``--catalog`` and ``ARTIMUSE_CATALOG`` take either. A URL must be recognised on the raw text: ``Path`` would fold
the ``//`` of ``postgresql+psycopg://user@host/db`` into one slash. Only PostgreSQL through psycopg 3 is offered
(``postgresql://`` and ``postgres://`` mean the same); any other ``scheme://`` is refused by name rather than taken
for a folder called ``scheme:``. What is printed never shows a password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from artimuse_desktop.errors import CatalogError

#: Anything that looks like ``scheme://...`` (RFC 3986 scheme characters) is a URL, not a path.
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}
DRIVER = "postgresql+psycopg"


def is_url(value: object) -> bool:
    """Whether ``value`` is a database URL rather than a file path (a ``Path`` never is)."""
    return isinstance(value, str) and _URL.match(value.strip()) is not None


def hide_password(url: str) -> str:
    """``url`` fit for messages and logs: any password replaced by ``***``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


@dataclass(frozen=True)
class CatalogLocation:
    """A SQLite file (``path``) or a PostgreSQL database (``url``, with the psycopg 3 driver)."""

    path: Path | None = None
    url: str | None = None

    @property
    def dialect(self) -> str:
        return "sqlite" if self.url is None else "postgresql"

    @property
    def printable(self) -> str:
        """What messages name: the file, or the URL with its password hidden."""
        return str(self.path) if self.url is None else hide_password(self.url)

    def __str__(self) -> str:
        return self.printable


def parse_location(value: str | Path | CatalogLocation) -> CatalogLocation:
    """The catalog at ``value``: a path (``~`` expanded, made absolute) or a PostgreSQL URL."""
    if isinstance(value, CatalogLocation):
        return value
    if isinstance(value, Path):
        return CatalogLocation(path=value.expanduser().absolute())
    text = value.strip()
    match = _URL.match(text)
    if match is None:
        return CatalogLocation(path=Path(value).expanduser().absolute())
    scheme = match.group("scheme").lower()
    if scheme not in _POSTGRES_SCHEMES:
        raise CatalogError(
            f"unsupported catalog location {hide_password(text)}: only PostgreSQL URLs are understood",
            hint="pass a catalog file, or postgresql+psycopg://USER@HOST/DATABASE",
        )
    url = DRIVER + text[match.end("scheme") :]
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise CatalogError(f"cannot read the catalog URL {hide_password(text)}: {exc}") from exc
    if not parsed.database:
        raise CatalogError(
            f"the catalog URL {hide_password(text)} names no database",
            hint="add the database after the host: postgresql+psycopg://USER@HOST/DATABASE",
        )
    return CatalogLocation(url=url)


def location_argument(value: str | None) -> str | Path | None:
    """A ``--catalog`` / ``ARTIMUSE_CATALOG`` value as the catalog opener takes it: URLs stay text."""
    if not value:
        return None
    return value.strip() if is_url(value) else Path(value)
