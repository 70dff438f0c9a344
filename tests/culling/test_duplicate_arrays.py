"""Duplicates in arrays: the hash-pair index against a comparison of every pair, the plain reads against the
row reads, and the grouping against one written out straightforwardly (random hashes, planted near copies,
drifting series, crowded buckets, odd values)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.models import STATUS_MISSING
from artimuse_desktop.culling.duplicate_rows import Columns, columns_of, load_columns, load_rows
from artimuse_desktop.culling.duplicates import (
    EXACT,
    NEAR,
    Item,
    duplicate_ids,
    group_items,
)
from artimuse_desktop.culling.hash_index import chunk_radii, near_pairs, parse_hashes
from tests.factory import insert_photos, photo_row

# --------------------------------------------------------------------------------------------- the index


def brute_pairs(hashes: Sequence[int], max_distance: int) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(hashes))
        for j in range(i + 1, len(hashes))
        if (hashes[i] ^ hashes[j]).bit_count() <= max_distance
    ]


def planted(seed: int, n: int, crowded: bool = False) -> list[int]:
    """Random hashes, a third of them near copies (0-12 bits flipped) of others; ``crowded`` puts half of them
    in one 16-bit bucket (dark frames share chunks), past the flat passes' reach."""
    rng = random.Random(seed)
    values = [rng.getrandbits(64) for _ in range(n)]
    for k in range(n // 3):
        v = values[rng.randrange(n // 3)]
        for bit in rng.sample(range(64), rng.randrange(13)):
            v ^= 1 << bit
        values[n - 1 - k] = v
    if crowded:
        values = [v & ~0xFFFF if i % 2 else v for i, v in enumerate(values)]
    return values


@pytest.mark.parametrize("max_distance", [0, 1, 3, 6, 10, 14, 20])
@pytest.mark.parametrize("crowded", [False, True])
def test_the_index_finds_exactly_the_pairs_a_full_comparison_finds(max_distance: int, crowded: bool) -> None:
    values = planted(max_distance, 600, crowded)
    unique = sorted(set(values))
    left, right = near_pairs(np.array(unique, dtype=np.uint64), max_distance)
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == brute_pairs(unique, max_distance)


@pytest.mark.parametrize("small_pieces", [False, True])
def test_the_table_search_itself_matches_on_a_larger_set(small_pieces: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large enough that the chunk tables are used (small sets compare directly: cheaper); with small pieces,
    crowded buckets go through the bounded expansion and the checks run in many pieces."""
    from artimuse_desktop.culling import hash_index

    if small_pieces:
        monkeypatch.setattr(hash_index, "_SLOTS", 1)
        monkeypatch.setattr(hash_index, "_MAX_PAIRS", 300)
    values = np.array(sorted(set(planted(7, 6000, crowded=True))), dtype=np.uint64)
    assert hash_index._indexed_is_cheaper(len(values), chunk_radii(10))
    table = hash_index._indexed_pairs(values, chunk_radii(10), 10)
    direct = hash_index._brute_pairs(values, 10)
    assert np.array_equal(table[0], direct[0]) and np.array_equal(table[1], direct[1])


def test_chunk_radii_cover_the_distance() -> None:
    for distance in range(0, 33):
        radii = chunk_radii(distance)
        assert sum(r + 1 for r in radii) == distance + 1 and len(radii) == 4


def test_parse_hashes_marks_what_is_not_sixteen_hex_digits() -> None:
    values, valid = parse_hashes(["ffffffffffffffff", "0000000000000001", "xyz", None, "f" * 17])
    assert valid.tolist() == [True, True, False, False, False]
    assert values[:2].tolist() == [2**64 - 1, 1]


def test_a_copy_whose_neighbours_went_to_another_star_still_joins_one() -> None:
    """A has three neighbours (A1, A2, B) and becomes a centre; C is near B only (16 bits from A). C must not
    go unlisted: it joins the star its one neighbour went to."""
    a, a1, a2, b, c = 0, 0x7, 0x70, 0xFF00, 0xFFFF00
    items = [Item(i + 1, None, f"{h:016x}") for i, h in enumerate([a, a1, a2, b, c])]
    assert group_items(items, max_distance=10) == [((1, 2, 3, 4, 5), NEAR)]
    without_c = group_items(items[:4], max_distance=10)
    assert without_c == [((1, 2, 3, 4), NEAR)]


# --------------------------------------------------------------------------------------------- plain reads, arrays


def canonical(codes: np.ndarray) -> list[int]:
    """Fingerprint codes as the position of the first photo with the same code (-1 stays): only which photos
    share a fingerprint matters, not the numbers."""
    first: dict[int, int] = {}
    return [-1 if c < 0 else first.setdefault(int(c), i) for i, c in enumerate(codes.tolist())]


def same_columns(a: Columns, b: Columns) -> bool:
    return (
        a.ids.tolist() == b.ids.tolist()
        and canonical(a.prints) == canonical(b.prints)
        and a.linkable.tolist() == b.linkable.tolist()
        and a.hashes.tolist() == b.hashes.tolist()
        and a.valid.tolist() == b.valid.tolist()
    )


def odd_rows(tmp_path: Path) -> list[dict[str, object]]:
    """Rows with every kind of fingerprint and hash the plain read must carry over exactly."""
    values = [
        ("same", "ffff0000ffff0000"),
        ("same", "ffff0000ffff0001"),  # an exact copy with another hash
        ("", "ffff0000ffff0003"),  # empty fingerprints: never exact copies by content, but one value
        ("", "0123456789abcdef"),
        (None, "0123456789abcdee"),
        (None, None),
        ("ünïcode", "FFFF0000FFFF0000"),
        ("ünïcode", "ffff0000ffff000é"),  # not ASCII: 16 characters, invalid
        ("other", "zzzzzzzzzzzzzzzz"),
        ("x" * 64, ""),
        ("y", "123"),
        ("z", "0123456789abcdef0"),
    ]
    rows = [photo_row(tmp_path / f"p{i}.jpg", fingerprint=f, phash=h) for i, (f, h) in enumerate(values)]
    rows.append(photo_row(tmp_path / "gone.jpg", fingerprint="same", phash="ffff0000ffff0000", status=STATUS_MISSING))
    return rows


@pytest.mark.parametrize("range_rows", [50_000, 3])
def test_the_joined_plain_read_gives_the_rows_exactly(
    catalog: Catalog, tmp_path: Path, range_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also read in ranges of three photos: copies whose fingerprints are read in different ranges still match."""
    from artimuse_desktop.culling import duplicate_rows

    monkeypatch.setattr(duplicate_rows, "_RANGE_ROWS", range_rows)
    assert len(load_columns(catalog).ids) == 0 and duplicate_ids(catalog) == ()  # an empty catalog
    insert_photos(catalog, odd_rows(tmp_path))
    rows = load_rows(catalog)
    assert len(rows.ids) == 12 and rows.ids == sorted(rows.ids)  # the missing file is not read
    assert same_columns(load_columns(catalog), columns_of(rows.ids, rows.fingerprints, rows.phashes))
    expected = [pid for ids, _kind in group_items(rows) for pid in ids]
    assert list(duplicate_ids(catalog)) == expected and len(expected) > 4


@pytest.mark.parametrize("field", ["phash", "fingerprint"])
def test_a_comma_inside_a_value_falls_back_to_rows(catalog: Catalog, tmp_path: Path, field: str) -> None:
    rows = odd_rows(tmp_path)
    rows.append(photo_row(tmp_path / "comma.jpg", **{"fingerprint": "same", "phash": "ffff0000ffff0000", field: "a,b"}))
    insert_photos(catalog, rows)
    plain = load_rows(catalog)
    assert same_columns(load_columns(catalog), columns_of(plain.ids, plain.fingerprints, plain.phashes))
    assert list(duplicate_ids(catalog)) == [pid for ids, _kind in group_items(plain) for pid in ids]


def reference_groups(items: Sequence[Item], max_distance: int) -> list[tuple[tuple[int, ...], str]]:
    """The grouping written out straightforwardly (dictionaries, one Python step at a time): exact copies by
    fingerprint, near copies as the greedy star cover over every pair, identical hashes as one node."""
    parent = list(range(len(items)))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    def join(members: Sequence[int]) -> None:
        for other in members[1:]:
            a, b = find(members[0]), find(other)
            parent[max(a, b)] = min(a, b)

    by_print: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        if item.fingerprint:
            by_print.setdefault(item.fingerprint, []).append(i)
    for members in by_print.values():
        join(members)
    by_hash: dict[int, list[int]] = {}
    for i, item in enumerate(items):
        valid = isinstance(item.phash, str) and len(item.phash) == 16
        if valid and all(c in "0123456789abcdefABCDEF" for c in str(item.phash)):
            by_hash.setdefault(int(str(item.phash), 16), []).append(i)
    nodes = sorted(by_hash)
    pairs = brute_pairs(nodes, max_distance)
    around: dict[int, list[int]] = {x: [] for x in range(len(nodes))}
    for i, j in pairs:  # later neighbours first, then earlier ones, each ascending
        around[i].append(j)
    for i, j in pairs:
        around[j].append(i)
    ranked = sorted((x for x in around if around[x]), key=lambda x: (-len(around[x]), -len(by_hash[nodes[x]]), x))
    star_of: dict[int, int] = {}
    stars: list[list[int]] = []
    for x in ranked:
        free = [y for y in around[x] if y not in star_of] if x not in star_of else []
        if free:
            for y in [x, *free]:
                star_of[y] = len(stars)
            stars.append([x, *free])
    for x in ranked:
        if x not in star_of:
            nearest = min(around[x], key=lambda y: (nodes[x] ^ nodes[y]).bit_count())
            star_of[x] = star_of[nearest]
            stars[star_of[x]].append(x)
    for star in stars:
        join([p for x in star for p in by_hash[nodes[x]]])
    for x, value in enumerate(nodes):
        if x not in star_of:
            join(by_hash[value])
    found: dict[int, list[int]] = {}
    for i in range(len(items)):
        found.setdefault(find(i), []).append(i)
    groups = []
    for members in (m for m in found.values() if len(m) > 1):
        prints = {items[i].fingerprint for i in members}
        kind = EXACT if len(prints) == 1 and None not in prints else NEAR
        groups.append((tuple(sorted(items[i].photo_id for i in members)), kind))
    return sorted(groups)


def planted_items(seed: int, n: int) -> list[Item]:
    """Random hashes with near copies planted around sources, drifting series (stars that are not one hash's
    neighbourhood), exact copies with other hashes, shared and empty fingerprints, malformed hashes; ids out of
    order."""
    rng = random.Random(seed)
    values = [rng.getrandbits(64) for _ in range(n)]
    for k in range(n // 4):  # near copies of sources, 0-12 bits flipped
        v = values[rng.randrange(n // 4)]
        for bit in rng.sample(range(64), rng.randrange(13)):
            v ^= 1 << bit
        values[n - 1 - k] = v
    for start in range(n // 4, n // 4 + 60, 12):  # drifting series: each frame 3-5 bits from the one before
        for k in range(start + 1, start + 12):
            v = values[k - 1]
            for bit in rng.sample(range(64), rng.randint(3, 5)):
                v ^= 1 << bit
            values[k] = v
    prints: list[str | None] = [f"f{i}" for i in range(n)]
    for _ in range(n // 20):
        prints[rng.randrange(n)] = prints[rng.randrange(n)]  # exact copies, wherever their hashes are
        prints[rng.randrange(n)] = rng.choice([None, ""])
    texts: list[str | None] = [f"{v:016x}" for v in values]
    for _ in range(n // 50):
        texts[rng.randrange(n)] = rng.choice([None, "", "xyz", f"{rng.getrandbits(64):017x}"])
    ids = rng.sample(range(1, 10 * n), n)
    return [Item(pid, p, h) for pid, p, h in zip(ids, prints, texts, strict=True)]


@pytest.mark.parametrize(("seed", "max_distance"), [(1, 10), (2, 10), (3, 6), (4, 14), (5, 0)])
def test_the_grouping_matches_a_straightforward_one(seed: int, max_distance: int) -> None:
    items = planted_items(seed, 1500)
    found = group_items(items, max_distance=max_distance)
    assert sorted(found) == reference_groups(items, max_distance)
    assert [ids[0] for ids, _kind in found] == sorted(ids[0] for ids, _kind in found)  # groups by first id
    assert all(list(ids) == sorted(ids) for ids, _kind in found)
    assert any(kind == EXACT for _ids, kind in found)
    assert any(len(ids) > 4 for ids, _kind in found) == (max_distance > 0)


def test_components_match_a_union_find_on_chains_and_random_edges() -> None:
    from artimuse_desktop.culling.duplicate_groups import _components

    rng = np.random.default_rng(3)
    n = 5000
    left = np.concatenate((rng.integers(0, n, 2500), np.arange(n - 1, 3000, -1)))  # a long chain, backwards
    right = np.concatenate((rng.integers(0, n, 2500), np.arange(n - 2, 2999, -1)))
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    assert _components(n, left, right).tolist() == [find(x) for x in range(n)]


@pytest.mark.parametrize("max_distance", [3, 10, 14])
def test_the_two_dense_levels_and_the_overflow_find_every_pair(max_distance: int) -> None:
    """Chunk 0 squeezed into 1,000 buckets of ~8 hashes: the tables use a second dense level there (and rows
    past both), the other chunks one or two; a near copy of every fifth hash differs outside chunk 0."""
    from artimuse_desktop.culling import hash_index

    rng = np.random.default_rng(max_distance)
    base = rng.integers(0, 2**63, 8000, dtype=np.uint64)
    values = np.unique((base & ~np.uint64(0xFFFF)) | rng.integers(0, 1000, 8000).astype(np.uint64))
    copies = values[:2000] ^ (np.uint64(1) << rng.integers(16, 64, 2000).astype(np.uint64))
    values = np.unique(np.concatenate((values, copies)))
    assert len(hash_index._ChunkTable(values, 0).levels) == 2
    table = hash_index._indexed_pairs(values, chunk_radii(max_distance), max_distance)
    direct = hash_index._brute_pairs(values, max_distance)
    assert np.array_equal(table[0], direct[0]) and np.array_equal(table[1], direct[1])
