"""All pairs of 64-bit perceptual hashes within a Hamming distance, without comparing every pair.

Multi-index hashing (Norouzi, Punjani and Fleet, "Fast search in Hamming space with multi-index hashing", 2012):
a hash is cut into four 16-bit chunks. If two hashes differ in at most ``d`` bits, the four chunk distances sum
to at most ``d``, so some chunk ``k`` differs by at most ``t_k`` bits for any radii with
``sum(t_k + 1) >= d + 1`` (for d = 10: radii 2, 2, 2, 1). Each chunk is a 65,536-bucket table; a hash meets only
the hashes whose chunk lies within ``t_k`` bits of its own (137 buckets of ~1.5 hashes each at radius 2 over
100,000 random hashes), and each candidate pair is checked on all 64 bits with one vectorised popcount.

Why this and not a BK-tree: at the distances duplicate finding needs (~10 of 64 bits) the triangle inequality
prunes little, so a BK-tree visits a large part of itself for every query, one Python step per node; the chunk
tables do the work as a few hundred numpy passes over flat arrays (1.2–1.5 s for 100,000 hashes on a busy
2-core machine, ``bench/bench_duplicates.py``).

Callers collapse identical hashes first (``np.unique``), so a thousand copies of one frame cost one bucket
entry, not half a million pairs. Where comparing blocks of hashes directly is cheaper (up to a few thousand
hashes, more at large distances) the search does that instead; both are exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from itertools import combinations

import numpy as np
import numpy.typing as npt

CHUNKS = 4
CHUNK_BITS = 16
_BUCKETS = 1 << CHUNK_BITS
_MAX_PAIRS = 2_000_000  # cells compared per pass by the direct search (bounds its memory)
_SLOTS = 12  # bucket members reached by flat passes; longer buckets finish with one explicit expansion
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
    nibbles = _NIBBLES[raw].reshape(-1, 16)
    valid: npt.NDArray[np.bool_] = np.asarray((nibbles < 16).all(axis=1), dtype=bool)
    digits = np.where(valid[:, None], nibbles, 0).astype(np.uint64)
    values = np.zeros(len(padded), dtype=np.uint64)
    for column in range(16):
        values = (values << np.uint64(4)) | digits[:, column]
    return values, valid


_INVALID = "g" * 16
_NIBBLES = np.full(256, 255, dtype=np.uint8)
for _digit in "0123456789abcdef":
    _NIBBLES[ord(_digit)] = _NIBBLES[ord(_digit.upper())] = int(_digit, 16)


def distances(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
    """Hamming distances between the hashes of ``a`` and ``b`` (same shape, or broadcastable)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.intp)


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
    keys: list[npt.NDArray[np.int64]] = []
    for k, radius in enumerate(radii):
        if radius < 0:
            continue
        table = _ChunkTable(hashes, k)
        for mask in _masks(radius).tolist():
            waiting: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]] = []
            size = 0
            for pair in table.candidates(mask):
                waiting.append(pair)
                size += len(pair[0])
                if size >= _MAX_PAIRS:  # a crowded bucket: check in bounded pieces
                    keys.append(_check(table, waiting, max_distance, n))
                    waiting, size = [], 0
            if waiting:  # usually the whole mask at once: one check per mask, not per slice
                keys.append(_check(table, waiting, max_distance, n))
    if not keys:
        return _empty()
    merged = np.unique(np.concatenate(keys))  # a pair close in several chunks is found several times
    return (merged // n).astype(np.intp), (merged % n).astype(np.intp)


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
    a, b = np.take(table.order, np.take(left, close)), np.take(table.order, np.take(right, close))
    return np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b)


class _ChunkTable:
    """The hashes sorted by one 16-bit chunk, with each bucket's start and size: a bucket is a slice.

    Arrays are int32 and gathered with ``np.take`` (several times faster than boolean masks on 100,000 rows)."""

    def __init__(self, hashes: npt.NDArray[np.uint64], k: int) -> None:
        chunk = ((hashes >> np.uint64(CHUNK_BITS * k)) & np.uint64(_BUCKETS - 1)).astype(np.int32)
        self.order = np.argsort(chunk, kind="stable").astype(np.int32)
        self.hashes = np.take(hashes, self.order)
        self.chunk = np.take(chunk, self.order)
        self.counts = np.bincount(self.chunk, minlength=_BUCKETS).astype(np.int32)
        self.starts = (np.cumsum(self.counts) - self.counts).astype(np.int32)
        # Rows whose chunk has bit b clear: with b the highest bit of a mask, exactly the rows whose bucket
        # across (chunk ^ mask) is the higher one, so each pair of buckets is visited once.
        self.clear = [np.flatnonzero((self.chunk >> bit) & 1 == 0).astype(np.int32) for bit in range(CHUNK_BITS)]

    def candidates(self, mask: int) -> Iterator[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]]:
        """(left, right) positions in sorted order of every pair whose chunks differ by exactly ``mask``, each
        pair once, in a few slices.

        Buckets hold one or two hashes on average, so the slot loop ("the s-th member of the bucket across")
        is a handful of flat passes; rows facing a bucket over ``_SLOTS`` long finish with one explicit
        expansion, so a crowded bucket (many dark frames share chunk 0) costs its pairs and no more passes."""
        if mask == 0:  # inside one bucket: each position with the ones after it
            yield from self._same_bucket()
            return
        active = self.clear[mask.bit_length() - 1]
        targets = np.take(self.chunk, active) ^ np.int32(mask)
        sizes = np.take(self.counts, targets)
        starts = np.take(self.starts, targets)
        slot = 0
        while len(active) and slot < _SLOTS:
            has = np.flatnonzero(sizes > slot)
            active, sizes, starts = np.take(active, has), np.take(sizes, has), np.take(starts, has)
            yield active, starts + slot
            slot += 1
        if len(active):
            yield from _expand(active, starts + slot, sizes - slot)

    def _same_bucket(self) -> Iterator[tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]]:
        rows = np.arange(len(self.chunk), dtype=np.int32)
        ends = np.take(self.starts + self.counts, self.chunk)  # one past each row's bucket
        step = 1
        while len(rows) and step <= _SLOTS:
            rows = np.take(rows, np.flatnonzero(rows + step < np.take(ends, rows)))
            yield rows, rows + step
            step += 1
        if len(rows):
            yield from _expand(rows, rows + step, np.take(ends, rows) - rows - step)


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
