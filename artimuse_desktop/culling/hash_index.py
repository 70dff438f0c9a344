"""All pairs of 64-bit perceptual hashes within a Hamming distance, without comparing every pair.

Multi-index hashing (Norouzi, Punjani and Fleet, "Fast search in Hamming space with multi-index hashing", 2012):
a hash is cut into four 16-bit chunks. If two hashes differ in at most ``d`` bits, the four chunk distances sum
to at most ``d``, so some chunk ``k`` differs by at most ``t_k`` bits for any radii with
``sum(t_k + 1) >= d + 1`` (for d = 10: radii 2, 2, 2, 1). Each chunk is a 65,536-bucket table; a hash meets only
the hashes whose chunk lies within ``t_k`` bits of its own (137 buckets of ~1.5 hashes each at radius 2 over
100,000 random hashes), and each candidate pair is checked on all 64 bits with one vectorised popcount.

The check runs on dense (bucket, slot) tables (``_ChunkTable``): for every row, the first slots of the bucket
across are gathered in one ``take`` and XORed, popcounted and compared in flat passes over blocks of rows, so a
mask costs a few numpy calls of ~100,000 cells each (each short, most releasing the GIL) and no per-pair index
arrays; only the members of long buckets pair up explicitly. 300,000 hashes: about 3 s on one loaded core,
where per-pair index arrays took 8-10 s. The cost is ~300 million candidate cells at d = 10 (it grows with the
square of the library: 16-bit chunks are the right size up to about a million hashes).

Why this and not a BK-tree: at the distances duplicate finding needs (~10 of 64 bits) the triangle inequality
prunes little, so a BK-tree visits a large part of itself for every query, one Python step per node; the chunk
tables do the work as a few hundred numpy passes over flat arrays (``bench/bench_duplicates.py``).

Callers collapse identical hashes first (``np.unique``), so a thousand copies of one frame cost one bucket
entry, not half a million pairs. Where comparing blocks of hashes directly is cheaper (up to a few thousand
hashes, more at large distances) the search does that instead; both are exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from itertools import combinations
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

CHUNKS = 4
CHUNK_BITS = 16
_BUCKETS = 1 << CHUNK_BITS
_MAX_PAIRS = 2_000_000  # cells compared per pass by the direct search (bounds its memory)
_SLOTS = 16  # most dense slots per bucket; members past them pair with the bucket across explicitly
_BLOCK_CELLS = 1 << 17  # cells compared per flat pass (about a megabyte: stays in the core's cache)
_PAIR_CELLS = 8  # an explicit pair costs about as much as this many dense cells
_PICK_CELLS = 4  # picking out a row for the second table costs about as much as this many cells
# Rough costs on one core (seconds), measured at 100,000 hashes: a table pass per mask, a direct comparison
_PASS_SECONDS, _ROW_SECONDS, _CELL_SECONDS = 150e-6, 15e-9, 8e-9

Pairs = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]


def parse_hashes(texts: Iterable[str | None]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """(hashes, valid): each hex text as a 64-bit value; ``valid`` is False where a text is missing or is not
    exactly 16 hex digits (a malformed hash never matches anything; ``int(text, 16)`` would also take "-1234…",
    " 12…" or "12_34…"). Vectorised: the texts become one byte array and a table turns digits into nibbles."""
    padded = [t if isinstance(t, str) and len(t) == 16 else _INVALID for t in texts]
    if not padded:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=bool)
    # "replace" turns each character that is not ASCII into one "?": still 16 bytes a text, and invalid.
    raw = np.frombuffer("".join(padded).encode("ascii", "replace"), dtype=np.uint8)
    return _from_digits(raw.reshape(-1, 16))


def parse_hash_fields(
    raw: npt.NDArray[np.uint8], starts: npt.NDArray[np.intp], lengths: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """``parse_hashes`` of the fields of ``raw`` (the bytes of one joined text, a byte a character) that start at
    ``starts`` and are ``lengths`` long: only a field of 16 hex digits is valid."""
    count = len(starts)
    if count and (lengths == 16).all() and len(raw) == 17 * count - 1:  # the usual case: a view, no gather
        return _from_digits(np.append(raw, np.uint8(0)).reshape(count, 17)[:, :16])
    values, valid = np.zeros(count, dtype=np.uint64), np.zeros(count, dtype=bool)
    at = np.flatnonzero(lengths == 16)
    for first in range(0, len(at), _MAX_PAIRS // 16):  # bounded index arrays
        part = at[first : first + _MAX_PAIRS // 16]
        values[part], valid[part] = _from_digits(raw[starts[part][:, None] + np.arange(16)])
    return values, valid


def _from_digits(block: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.bool_]]:
    """Rows of 16 text bytes as (value, valid): valid where every byte is a hex digit (value 0 otherwise)."""
    nibbles = _NIBBLES[block]
    valid: npt.NDArray[np.bool_] = np.asarray((nibbles < 16).all(axis=1), dtype=bool)
    nibbles[~valid] = 0
    octets = np.ascontiguousarray((nibbles[:, 0::2] << 4) | nibbles[:, 1::2])  # two digits a byte, high first
    return octets.view(">u8").reshape(-1).astype(np.uint64), valid


_INVALID = "g" * 16
_NIBBLES = np.full(256, 255, dtype=np.uint8)
for _digit in "0123456789abcdef":
    _NIBBLES[ord(_digit)] = _NIBBLES[ord(_digit.upper())] = int(_digit, 16)


def distances(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
    """Hamming distances between the hashes of ``a`` and ``b`` (same shape, or broadcastable)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.intp)


def run_starts(values: npt.NDArray[np.generic]) -> npt.NDArray[np.bool_]:
    """Where a run of equal values begins in ``values`` (sorted, or grouped): True at each first one."""
    starts = np.ones(len(values), dtype=bool)
    starts[1:] = values[1:] != values[:-1]
    return starts


def chunk_radii(max_distance: int) -> tuple[int, ...]:
    """Per-chunk search radii whose sum of (radius + 1) reaches ``max_distance + 1``; -1 skips a chunk."""
    base, extra = divmod(max_distance + 1, CHUNKS)
    return tuple(base + (1 if k < extra else 0) - 1 for k in range(CHUNKS))


@cache
def _masks(radius: int) -> npt.NDArray[np.intp]:
    """Every 16-bit value with at most ``radius`` bits set, zero first."""
    found = [0]
    for bits in range(1, radius + 1):
        found.extend(sum(1 << b for b in chosen) for chosen in combinations(range(CHUNK_BITS), bits))
    return np.array(found, dtype=np.intp)


def _indexed_is_cheaper(n: int, radii: tuple[int, ...]) -> bool:
    passes = sum(len(_masks(r)) for r in radii if r >= 0)
    return passes * (_PASS_SECONDS + n * _ROW_SECONDS) < n * n / 2 * _CELL_SECONDS


def near_pairs(hashes: npt.NDArray[np.uint64], max_distance: int) -> Pairs:
    """Every index pair ``(i, j)``, ``i < j``, whose hashes differ by at most ``max_distance`` bits; each pair once,
    sorted by ``i`` then ``j``. Equal hashes pair up too: pass distinct values (``np.unique``) so that many
    copies of one frame do not turn into all their pairs."""
    if max_distance < 0:
        raise ValueError("max_distance must be 0 or more")
    hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
    if len(hashes) < 2:
        return _empty()
    radii = chunk_radii(max_distance)
    if _indexed_is_cheaper(len(hashes), radii):
        return _indexed_pairs(hashes, radii, max_distance)
    return _brute_pairs(hashes, max_distance)


def _empty() -> Pairs:
    return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)


def _indexed_pairs(hashes: npt.NDArray[np.uint64], radii: tuple[int, ...], max_distance: int) -> Pairs:
    """The pairs within ``max_distance``, found through the chunk tables."""
    n = len(hashes)
    keys = [
        key for k, radius in enumerate(radii) if radius >= 0 for key in _table_keys(hashes, k, radius, max_distance)
    ]
    if not keys:
        return _empty()
    merged = np.sort(np.concatenate(keys))  # a pair close in several chunks is found several times
    merged = merged[run_starts(merged)]
    return (merged // n).astype(np.intp), (merged % n).astype(np.intp)


def _table_keys(hashes: npt.NDArray[np.uint64], k: int, radius: int, max_distance: int) -> list[npt.NDArray[np.int64]]:
    """Keys of the close pairs whose chunk ``k`` differs by at most ``radius`` bits."""
    table = _ChunkTable(hashes, k)
    by_top_bit: dict[int, list[int]] = {}
    for mask in _masks(radius).tolist():
        by_top_bit.setdefault(mask.bit_length() - 1, []).append(mask)
    keys: list[npt.NDArray[np.int64]] = []
    for top, masks in sorted(by_top_bit.items()):
        side = table.side(top)  # the rows facing the higher bucket, shared by every mask with this top bit
        for mask in masks:
            keys.extend(table.close(side, mask, max_distance))
    return keys


def _check(
    table: _ChunkTable,
    pairs: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]],
    max_distance: int,
    n: int,
) -> npt.NDArray[np.int64]:
    """Keys ``i * n + j`` (original positions, i < j) of the candidate pairs that are within the distance."""
    left = np.concatenate([pair[0] for pair in pairs])
    right = np.concatenate([pair[1] for pair in pairs])
    close = np.flatnonzero(distances(np.take(table.hashes, left), np.take(table.hashes, right)) <= max_distance)
    return _keys(table, np.take(left, close), np.take(right, close), n)


def _keys(
    table: _ChunkTable, left: npt.NDArray[np.integer], right: npt.NDArray[np.integer], n: int
) -> npt.NDArray[np.int64]:
    a, b = np.take(table.order, left), np.take(table.order, right)
    return np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)


class _Side(NamedTuple):
    """The rows on the lower side of every bucket pair for one top bit: positions, chunks, hashes, and the
    hashes repeated once per first-level slot (so that comparison is one flat pass)."""

    rows: npt.NDArray[np.int32]
    chunk: npt.NDArray[np.int32]
    hashes: npt.NDArray[np.uint64]
    repeated: npt.NDArray[np.uint64]


class _Level(NamedTuple):
    """Slots ``first`` to ``first + width`` of every bucket as a dense (bucket, slot) table."""

    dense: npt.NDArray[np.uint64]
    first: int
    width: int


class _ChunkTable:
    """The hashes sorted by one 16-bit chunk, with each bucket's start and size: a bucket is a slice.

    Each bucket's first members also sit in a dense (bucket, slot) table, so "every row against the bucket
    across" is a handful of flat numpy passes over a block of rows: gather the rows of the table, XOR,
    popcount, compare, with no per-pair index arrays (numpy releases the GIL in each pass). A second table
    holds the next few members; only the rows facing a bucket that long go through it. Empty slots hold a value
    whose chunk is the complement of the bucket's, far from every row facing it; every hit is checked against
    the bucket's size anyway. Members past both (a crowded bucket: many dark frames share chunk 0) pair
    explicitly with the bucket across, in bounded pieces."""

    def __init__(self, hashes: npt.NDArray[np.uint64], k: int) -> None:
        self.n = len(hashes)
        chunk = ((hashes >> np.uint64(CHUNK_BITS * k)) & np.uint64(_BUCKETS - 1)).astype(np.int32)
        self.order = np.argsort(chunk, kind="stable").astype(np.int32)
        self.hashes = np.take(hashes, self.order)
        self.chunk = np.take(chunk, self.order)
        self.counts = np.bincount(self.chunk, minlength=_BUCKETS).astype(np.int32)
        self.starts = (np.cumsum(self.counts) - self.counts).astype(np.int32)
        self.rank = np.arange(self.n, dtype=np.int32) - np.take(self.starts, self.chunk)
        far = (~np.arange(_BUCKETS, dtype=np.uint64) & np.uint64(_BUCKETS - 1)) << np.uint64(CHUNK_BITS * k)
        first_width, second_width = _slot_counts(self.counts)
        self.levels = [self._level(far, 0, first_width)]
        if second_width:
            self.levels.append(self._level(far, first_width, second_width))
        dense_slots = first_width + second_width
        self.overflow = np.flatnonzero(self.rank >= dense_slots).astype(np.int32)  # past the dense slots

    def _level(self, far: npt.NDArray[np.uint64], first: int, width: int) -> _Level:
        dense = np.repeat(far, width).reshape(_BUCKETS, width)
        inside = np.flatnonzero((self.rank >= first) & (self.rank < first + width))
        dense[np.take(self.chunk, inside), np.take(self.rank, inside) - first] = np.take(self.hashes, inside)
        return _Level(dense, first, width)

    def side(self, top: int) -> _Side:
        """The rows whose chunk has bit ``top`` clear (all rows for the zero mask, ``top`` -1): with ``top``
        the highest bit of a mask, exactly the rows whose bucket across (chunk ^ mask) is the higher one, so
        each pair of buckets is visited once."""
        rows = np.arange(self.n, dtype=np.int32) if top < 0 else np.flatnonzero((self.chunk >> top) & 1 == 0)
        rows = rows.astype(np.int32)
        hashes = np.take(self.hashes, rows)
        return _Side(rows, np.take(self.chunk, rows), hashes, np.repeat(hashes, self.levels[0].width))

    def close(self, side: _Side, mask: int, max_distance: int) -> list[npt.NDArray[np.int64]]:
        """Keys (see ``_check``) of the pairs within ``max_distance`` whose chunks differ by exactly ``mask``."""
        found = self._scan(side, self.levels[0], mask, max_distance)
        if len(self.levels) > 1:
            second = self.levels[1]
            longer = np.flatnonzero(np.take(self.counts, side.chunk ^ np.int32(mask)) > second.first)
            hashes = np.take(side.hashes, longer)
            facing = _Side(
                np.take(side.rows, longer), np.take(side.chunk, longer), hashes, np.repeat(hashes, second.width)
            )
            found += self._scan(facing, second, mask, max_distance)
        if len(self.overflow):
            found += self._overflow(mask, max_distance)
        return found

    def _scan(self, side: _Side, level: _Level, mask: int, max_distance: int) -> list[npt.NDArray[np.int64]]:
        """Keys of the close pairs between the rows of ``side`` and the slots of ``level`` across."""
        if not len(side.rows):
            return []
        slots = level.width
        step = min(max(1, _BLOCK_CELLS // slots), len(side.rows))
        targets = np.empty(step, dtype=np.int32)  # reused buffers: a block's passes allocate nothing
        cells = np.empty((step, slots), dtype=np.uint64)
        bits = np.empty(step * slots, dtype=np.uint8)
        near = np.empty(step * slots, dtype=bool)
        found: list[npt.NDArray[np.int64]] = []
        for first in range(0, len(side.rows), step):
            size = min(step, len(side.rows) - first)
            block = slice(0, size * slots)
            np.bitwise_xor(side.chunk[first : first + size], np.int32(mask), out=targets[:size])
            np.take(level.dense, targets[:size], axis=0, out=cells[:size])
            flat = cells.reshape(-1)[block]
            np.bitwise_xor(flat, side.repeated[first * slots : (first + size) * slots], out=flat)
            np.bitwise_count(flat, out=bits[block])
            np.less_equal(bits[block], max_distance, out=near[block])
            hits = np.flatnonzero(near[block])
            if len(hits):
                slot = (hits % slots).astype(np.int32) + np.int32(level.first)
                found.append(self._hits(side, mask, first + hits // slots, slot))
        return found

    def _hits(
        self, side: _Side, mask: int, row: npt.NDArray[np.intp], slot: npt.NDArray[np.int32]
    ) -> npt.NDArray[np.int64]:
        """Keys of the hits that are real members (not empty slots; inside a bucket, later members only)."""
        target = np.take(side.chunk, row) ^ np.int32(mask)
        left = np.take(side.rows, row)
        real = slot < np.take(self.counts, target)
        if mask == 0:  # the same bucket: each pair once, the later member on the right
            real &= slot > np.take(self.rank, left)
        return _keys(self, left[real], np.take(self.starts, target[real]) + slot[real], self.n)

    def _overflow(self, mask: int, max_distance: int) -> list[npt.NDArray[np.int64]]:
        """The pairs whose right member lies past the dense slots: each such row with the bucket across (or,
        inside one bucket, with the members before it)."""
        rows = self.overflow
        chunk = np.take(self.chunk, rows)
        if mask == 0:
            pieces = _expand(rows, np.take(self.starts, chunk), np.take(self.rank, rows))
        else:
            rows = rows[(chunk >> (mask.bit_length() - 1)) & 1 == 1]
            across = np.take(self.chunk, rows) ^ np.int32(mask)
            pieces = _expand(rows, np.take(self.starts, across), np.take(self.counts, across))
        return [_check(self, [(left, right)], max_distance, self.n) for left, right in pieces]


def _slot_counts(counts: npt.NDArray[np.int32]) -> tuple[int, int]:
    """Widths of the two dense tables: a first-level slot costs a flat pass over every row, a second-level one
    a pass over the rows facing a bucket that long (plus picking them out), a member past both an explicit
    pair with each member of the bucket across; the cheapest total, ``_SLOTS`` slots at most."""
    sizes = np.bincount(counts).astype(np.float64)  # buckets by size
    rows = float(counts.sum())
    mean = max(1.0, rows / max(1.0, float(sizes[1:].sum())))
    length = np.arange(len(sizes))
    longer = np.concatenate((np.cumsum(sizes[::-1])[::-1][1:], [0.0])) / max(1.0, float(sizes.sum()))
    best, best_cost = (1, 0), float("inf")
    for first in range(1, min(_SLOTS, len(sizes)) + 1):
        for second in range(0, min(_SLOTS - first, len(sizes) - first) + 1):
            beyond = float((np.maximum(length - first - second, 0) * sizes).sum())
            picked = longer[first] * (second + _PICK_CELLS) + 1 if second else 0.0
            cost = rows * (first + picked) + _PAIR_CELLS * beyond * mean
            if cost < best_cost:
                best, best_cost = (first, second), cost
    return best


def _expand(
    rows: npt.NDArray[np.int32], firsts: npt.NDArray[np.int32], sizes: npt.NDArray[np.int32]
) -> Iterator[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]]:
    """Each row paired with ``sizes[i]`` consecutive positions from ``firsts[i]``, in pieces of about
    ``_MAX_PAIRS`` pairs (a bucket of 50,000 look-alike frames must not become one billion-pair array)."""
    sizes = np.maximum(sizes, 0)
    ends = np.cumsum(sizes)
    start = 0
    while start < len(rows):
        budget = (int(ends[start - 1]) if start else 0) + _MAX_PAIRS
        stop = max(start + 1, int(np.searchsorted(ends, budget, side="right")))
        part = sizes[start:stop]
        total = int(part.sum())
        left = np.repeat(rows[start:stop], part)
        offsets = np.arange(total, dtype=np.int32) - np.repeat(np.cumsum(part) - part, part).astype(np.int32)
        yield left, np.repeat(firsts[start:stop], part) + offsets
        start = stop


def _brute_pairs(unique: npt.NDArray[np.uint64], max_distance: int) -> Pairs:
    """The pairs within ``max_distance``, by comparing blocks of hashes with all later ones."""
    lefts: list[npt.NDArray[np.intp]] = []
    rights: list[npt.NDArray[np.intp]] = []
    rows = max(16, _MAX_PAIRS // max(1, len(unique)))  # a block against the rest stays ~_MAX_PAIRS cells
    for start in range(0, len(unique), rows):
        block = unique[start : start + rows]
        rest = unique[start:]
        i, j = np.nonzero(distances(block[:, None], rest[None, :]) <= max_distance)
        j = j + start
        i = i + start
        keep = i < j
        lefts.append(i[keep].astype(np.intp))
        rights.append(j[keep].astype(np.intp))
    return np.concatenate(lefts), np.concatenate(rights)  # block order is i order; j ascends within i
