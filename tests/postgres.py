"""A real PostgreSQL server for the tests and the catalog bench, on 127.0.0.1 only, in a temporary folder.

``initdb`` and ``pg_ctl`` from the Debian packages (``make test`` installs ``postgresql``) make a throw-away
cluster with trust authentication on the loopback address and its socket in the folder itself, so nothing
outside it is touched. initdb refuses to run as root: as root, the cluster belongs to the ``postgres`` system
user and the server runs as that user. One server per test session (``postgres_server``); every test that asks
for ``postgres_url`` gets a fresh, empty database on it, dropped afterwards.

Without the binaries the tests that need a server are skipped with the reason, except in CI (``CI`` set),
where that is a failure: CI must run them.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: The superuser initdb makes; the catalog connects as it (trust on 127.0.0.1).
SUPERUSER = "artimuse"
#: Settings for a throw-away cluster: no fsync (a crash loses a test database, nothing else), small, quiet.
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "128MB",
    "log_min_messages": "warning",
}


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries on this machine (or no user to run them as)."""


def find_bindir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres: ``pg_config --bindir``, PATH, /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(Path(out.stdout.strip()))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    candidates.extend(Path(p) for p in versions)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One throw-away cluster: ``start()``, ``url(database)``, ``create_database()``, ``stop()``."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable
        self.port = 0
        self.folder = Path(tempfile.mkdtemp(prefix="artimuse-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._run_as: dict[str, Any] = {}
        self._names = itertools.count(1)
        if os.geteuid() == 0:
            try:
                account = pwd.getpwnam("postgres")
            except KeyError as exc:
                shutil.rmtree(self.folder, ignore_errors=True)
                raise PostgresUnavailable("running as root and there is no `postgres` user to run initdb as") from exc
            os.chown(self.folder, account.pw_uid, account.pw_gid)
            self._run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def _run(self, *args: str, locale: str = "C.UTF-8") -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LC_ALL": locale, "LANG": locale, "PGTZ": "UTC"}
        result = subprocess.run(
            [str(a) for a in args], capture_output=True, text=True, env=env, cwd=self.folder, **self._run_as
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()}\n{log}")
        return result

    def _initdb(self) -> None:
        """A new cluster: UTF-8, code-point order (C.UTF-8, or C where a system lacks it), trust on 127.0.0.1."""
        for locale in ("C.UTF-8", "C"):
            try:
                self._run(
                    self.bindir / "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth-local=trust",
                    "--auth-host=trust", "-E", "UTF8", f"--locale={locale}", "--no-sync", "--no-instructions",
                    locale=locale,
                )  # fmt: skip
                return
            except RuntimeError:
                if locale == "C":
                    raise
                shutil.rmtree(self.data, ignore_errors=True)

    def start(self) -> PostgresServer:
        self._initdb()
        settings = {} if self.durable else dict(FAST_SETTINGS)
        settings.update(
            {"listen_addresses": "'127.0.0.1'", "unix_socket_directories": f"'{self.folder}'", "timezone": "'UTC'"}
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# artimuse tests\n" + "".join(f"{key} = {value}\n" for key, value in settings.items()))
        for attempt in range(5):  # the free port can be taken between probing and listening: try another
            self.port = _free_port()
            try:
                self._run(
                    self.bindir / "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                    "-o", f"-p {self.port}", "start",
                )  # fmt: skip
                return self
            except RuntimeError:
                if attempt == 4:
                    raise
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self._run(self.bindir / "pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server (psycopg 3 driver)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(statement)

    def create_database(self, prefix: str = "catalog") -> str:
        """A new empty database; returns its name."""
        name = f"{prefix}_{next(self._names)}"
        self._admin(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' STRATEGY file_copy")
        return name

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def __enter__(self) -> PostgresServer:
        return self if self.port else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(*, durable: bool = False) -> PostgresServer:
    """A started server, or PostgresUnavailable saying why there cannot be one here."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "no PostgreSQL binaries (initdb, pg_ctl, postgres) found via pg_config, PATH or "
            "/usr/lib/postgresql/*/bin; install the Debian package `postgresql` (make test-debs)"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise PostgresUnavailable('psycopg 3 is not installed: pip install -e ".[studio]"') from exc
    server = PostgresServer(bindir, durable=durable)
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session, on 127.0.0.1; skipped without binaries, except in CI."""
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}", pytrace=False)
        pytest.skip(f"no PostgreSQL server for this test: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database on the session's server, dropped after the test."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)
