"""Two editors culling one catalog at once, as two real processes: no decision is lost, the log stays whole.

Each worker is a fresh interpreter (``python -c``) on the same catalog (a SQLite file, or a database on the test
PostgreSQL server). Both report "ready" and wait for one "go" line on stdin, so their writes overlap; then each
writes its decisions to the same 200 photos in small batches, round after round. Afterwards every photo must
hold the last value each editor gave its field, and the log of each field must be a chain: every event's old
value is the value the one before it left (none lost, none read stale).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from artimuse_desktop.catalog import Catalog
from artimuse_desktop.catalog.models import DecisionEvent, Photo
from tests.factory import insert_photos, photo_row

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = 200
ROUNDS = 4
CHUNK = 10

#: argv: catalog, user, field, json list of per-round values, json list of photo ids.
WORKER = """
import json, sys, time
from artimuse_desktop.catalog import Catalog
from artimuse_desktop.culling import decisions
place, user, field = sys.argv[1:4]
values, ids = json.loads(sys.argv[4]), json.loads(sys.argv[5])
catalog = Catalog(place)
print("ready", flush=True)
assert sys.stdin.readline().strip() == "go"
started = time.monotonic()
batches = 0
for value in values:
    for start in range(0, len(ids), CHUNK):
        if decisions.set_decision(catalog, ids[start:start + CHUNK], field, value, user=user) is not None:
            batches += 1
ended = time.monotonic()
catalog.close()
print(f"done {batches} {started} {ended}", flush=True)
""".replace("CHUNK", str(CHUNK))


def _place(catalog: Catalog) -> str:
    return catalog.url if getattr(catalog, "url", None) else str(catalog.path)


def run_together(place: str, jobs: list[tuple[str, str, list[int | str | None], list[int]]]) -> list[int]:
    """Start one worker per job, release them together; returns how many batches each wrote (all must succeed,
    and each must have started writing before the other finished: the system-wide monotonic clock)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, place, user, field, json.dumps(values), json.dumps(ids)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        for user, field, values, ids in jobs
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()  # blocks until that worker has opened the catalog
            assert line.strip() == "ready", worker.communicate(timeout=60)[1]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results: list[list[str]] = []
        for worker in workers:
            out, err = worker.communicate(timeout=300)
            assert worker.returncode == 0, err
            results.append(out.strip().splitlines()[-1].split())
        for (_, _, start, _), (_, _, _, end) in itertools.permutations(results, 2):
            assert float(start) < float(end), f"the workers did not overlap: {results}"
        return [int(batches) for _, batches, _, _ in results]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()


def _chains(catalog: Catalog, field: str) -> dict[int, list[tuple[str | None, str | None, str | None]]]:
    """Each photo's events of ``field`` in the order they were applied: (old, new, user). That is the order of
    their ids (logged while the photo is locked), not of their batches (numbered when a transaction starts)."""
    with catalog.read() as session:
        rows = session.execute(
            select(DecisionEvent.photo_id, DecisionEvent.old_value, DecisionEvent.new_value, DecisionEvent.user_name)
            .where(DecisionEvent.field == field)
            .order_by(DecisionEvent.id)
        ).all()
    chains: dict[int, list[tuple[str | None, str | None, str | None]]] = {}
    for photo_id, old, new, user in rows:
        chains.setdefault(photo_id, []).append((old, new, user))
    return chains


def _values(catalog: Catalog, field: str) -> dict[int, object]:
    with catalog.read() as session:
        return {pid: value for pid, value in session.execute(select(Photo.id, getattr(Photo, field)))}


def assert_whole_chain(chain: list[tuple[str | None, str | None, str | None]], start: str, end: object) -> None:
    """Every step starts where the one before ended, from the photo's first value to its value now."""
    assert chain, "no events"
    assert chain[0][0] == start
    for (_, previous_new, _), (old, _, _) in itertools.pairwise(chain):
        assert old == previous_new, chain
    assert chain[-1][1] == str(end), chain


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    """A catalog with 200 photos, on a file or on the test PostgreSQL server."""
    if request.param == "sqlite":
        place: str = str(tmp_path / "shared.sqlite")
    else:
        place = request.getfixturevalue("postgres_url")
    catalog = Catalog(place)
    insert_photos(catalog, [photo_row(f"/nas/wedding/IMG_{i:04d}.JPG") for i in range(PHOTOS)])
    try:
        yield catalog
    finally:
        catalog.close()


def _ids(catalog: Catalog) -> list[int]:
    with catalog.read() as session:
        return list(session.execute(select(Photo.id).order_by(Photo.id)).scalars())


def test_a_flag_and_a_rating_on_the_same_photos_at_once_both_survive(shared_catalog: Catalog) -> None:
    ids = _ids(shared_catalog)
    flags: list[int | str | None] = [1, -1, 0, 1]
    stars: list[int | str | None] = [2, 5, 3, 4]
    # Bob goes through the photos backwards: the two editors' batches cross in the middle.
    done = run_together(_place(shared_catalog), [("alice", "flag", flags, ids), ("bob", "rating", stars, ids[::-1])])
    assert done == [ROUNDS * PHOTOS // CHUNK] * 2
    assert set(_values(shared_catalog, "flag").values()) == {1}
    assert set(_values(shared_catalog, "rating").values()) == {4}
    for field, user, start, end in (("flag", "alice", "0", 1), ("rating", "bob", "0", 4)):
        chains = _chains(shared_catalog, field)
        assert sorted(chains) == ids
        for chain in chains.values():
            assert len(chain) == ROUNDS and {u for _, _, u in chain} == {user}
            assert_whole_chain(chain, start, end)


def test_two_editors_flagging_the_same_photos_at_once_end_with_one_value_and_a_whole_log(
    shared_catalog: Catalog,
) -> None:
    ids = _ids(shared_catalog)
    rounds: Callable[[int], list[int | str | None]] = lambda first: [first, -first] * (ROUNDS // 2)  # noqa: E731
    run_together(_place(shared_catalog), [("alice", "flag", rounds(1), ids), ("bob", "flag", rounds(-1), ids)])
    flags = _values(shared_catalog, "flag")
    assert set(flags.values()) <= {1, -1}
    chains = _chains(shared_catalog, "flag")
    assert sorted(chains) == ids
    for photo_id, chain in chains.items():
        # Every write that changed the value is logged once, with the value it really replaced.
        assert_whole_chain(chain, "0", flags[photo_id])
        assert {u for _, _, u in chain} <= {"alice", "bob"}
        assert all(old != new for old, new, _ in chain)
    with shared_catalog.read() as session:
        batches = session.execute(
            select(DecisionEvent.batch, DecisionEvent.user_name).distinct().order_by(DecisionEvent.batch)
        ).all()
    owners: dict[int, set[str | None]] = {}
    for batch, user in batches:
        owners.setdefault(batch, set()).add(user)
    assert all(len(users) == 1 for users in owners.values())  # no batch number handed to both
    if shared_catalog.dialect == "postgresql":  # row locks queue the writers; SQLite's lock may let one run on
        turns = sum(1 for a, b in itertools.pairwise(batches) if a.user_name != b.user_name)
        assert turns >= 2, "the two editors never wrote in turn"
