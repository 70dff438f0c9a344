"""Which photos are one picture: exact copies by fingerprint, near copies as stars over the hash pairs.

Plain arrays in, groups of positions out; ``duplicates`` adds the catalog and the keep rules.

A near group is a star, not a chain: the hash with the most neighbours (then the most photos, then the lowest
value) takes every neighbour not yet taken, and so on. Chaining A~B~C~D... through a slowly drifting series
would make one group of frames that are not copies of each other, and keep best would reject all but one of
them. A photo left over because all its neighbours went to other stars joins the star of its nearest
neighbour (a copy of a copy), so no near copy goes unlisted. Identical hashes count as one node, so a thousand
copies of one frame cost one entry in the search.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from artimuse_desktop.culling.hash_index import distances, near_pairs, parse_hashes

IntArray = npt.NDArray[np.intp]


def group_positions(
    fingerprints: Sequence[str | None],
    phashes: Sequence[str | None] | None,
    max_distance: int,
) -> list[list[int]]:
    """Groups of at least two positions: equal fingerprints, plus (unless ``phashes`` is None) the near stars;
    a position belongs to one group at most."""
    joined = _UnionFind()
    first: dict[str, int] = {}
    copies: dict[int, list[int]] = defaultdict(list)  # only fingerprints seen twice or more get a list
    for index, fingerprint in enumerate(fingerprints):
        if fingerprint and (seen := first.setdefault(fingerprint, index)) != index:
            copies[seen].append(index)
    for seen, others in copies.items():
        joined.union_all([seen, *others])
    if phashes is not None:
        for members in near_groups(phashes, max_distance):
            joined.union_all(members)
    return joined.groups()


def near_groups(phashes: Sequence[str | None], max_distance: int) -> list[list[int]]:
    """Positions of photos whose hashes form one star, or are equal; malformed or absent hashes never group."""
    hashes, valid = parse_hashes(phashes)
    positions = np.flatnonzero(valid)
    if len(positions) < 2:
        return []
    unique, inverse = np.unique(hashes[positions], return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    multiplicity = np.bincount(inverse, minlength=len(unique))
    bounds = np.concatenate(([0], np.cumsum(multiplicity)))
    by_node = positions[order]  # positions grouped by node: node k owns by_node[bounds[k]:bounds[k + 1]]

    def members(node: int) -> list[int]:
        return [int(p) for p in by_node[bounds[node] : bounds[node + 1]]]

    left, right = near_pairs(unique, max_distance)
    stars = _stars(unique, left, right, multiplicity)
    grouped = np.zeros(len(unique), dtype=bool)
    found: list[list[int]] = []
    for star in stars:
        grouped[star] = True
        found.append([p for node in star for p in members(node)])
    for node in np.flatnonzero((multiplicity > 1) & ~grouped).tolist():  # equal hashes, no other neighbour
        found.append(members(node))
    return found


def _stars(unique: npt.NDArray[np.uint64], left: IntArray, right: IntArray, weight: IntArray) -> list[list[int]]:
    """Greedy star cover of the pair graph (see the module notes); deterministic for the same hashes."""
    n_nodes = len(unique)
    if not len(left):
        return []
    source = np.concatenate((left, right))
    target = np.concatenate((right, left))[np.argsort(source, kind="stable")]
    degree = np.bincount(source, minlength=n_nodes)
    starts = np.cumsum(degree) - degree
    nodes = np.flatnonzero(degree)
    ranked = nodes[np.lexsort((nodes, -weight[nodes], -degree[nodes]))].tolist()
    star_of = np.full(n_nodes, -1, dtype=np.intp)
    stars: list[list[int]] = []
    for node in ranked:
        if star_of[node] >= 0:
            continue
        around = target[starts[node] : starts[node] + degree[node]]
        free = around[star_of[around] < 0]
        if len(free):
            star_of[node] = star_of[free] = len(stars)
            stars.append([node, *free.tolist()])
    for node in ranked:  # left over: every neighbour went to another star; join the nearest one's
        if star_of[node] < 0:
            around = target[starts[node] : starts[node] + degree[node]]
            nearest = around[np.argmin(distances(unique[around], unique[node]))]
            star_of[node] = star_of[nearest]
            stars[star_of[node]].append(node)
    return stars


class _UnionFind:
    """Disjoint sets of positions; only positions joined to another show up in ``groups``."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:  # path compression
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union_all(self, members: Sequence[int]) -> None:
        if len(members) < 2:
            return
        first = self.find(members[0])
        self.parent.setdefault(first, first)
        for other in members[1:]:
            root = self.find(other)
            if root != first:
                low, high = min(root, first), max(root, first)
                self.parent[high] = low
                self.parent.setdefault(low, low)
                first = low

    def groups(self) -> list[list[int]]:
        found: dict[int, list[int]] = defaultdict(list)
        for x in list(self.parent):
            found[self.find(x)].append(x)
        return [members for members in found.values() if len(members) > 1]
