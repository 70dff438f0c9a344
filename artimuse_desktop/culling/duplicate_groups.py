"""Which photos are one picture: exact copies by fingerprint, near copies as stars over the hash pairs.

Plain arrays in, groups of positions out; ``duplicates`` adds the catalog and the keep rules.

A near group is a star, not a chain: the hash with the most neighbours (then the most photos, then the lowest
value) takes every neighbour not yet taken, and so on. Chaining A~B~C~D... through a slowly drifting series
would make one group of frames that are not copies of each other, and keep best would reject all but one of
them. A photo left over because all its neighbours went to other stars joins the star of its nearest
neighbour (a copy of a copy), so no near copy goes unlisted. Identical hashes count as one node, so a thousand
copies of one frame cost one entry in the search.

Everything is whole-array numpy, so a 300,000 photo library is grouped in a few large passes that release the
GIL, not in a Python step per photo (nor in one compiled call that holds it for a tenth of a second). The greedy
star cover only interacts inside a connected part of the pair graph; where the part's first-ranked hash is a
neighbour of all the others (nearly always: a photo and its copies) it is one star outright, and only the rare
other parts go through the step-by-step cover, with the same order and so the same stars.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from artimuse_desktop.culling.hash_index import distances, near_pairs, run_starts

IntArray = npt.NDArray[np.intp]


class Grouping(NamedTuple):
    """Groups of positions: group ``g`` is ``positions[bounds[g]:bounds[g + 1]]``, ``exact[g]`` when all its
    members share one fingerprint (code >= 0). Positions ascend by photo id inside a group; groups are in the
    order of their first photo id."""

    positions: IntArray
    bounds: IntArray
    exact: npt.NDArray[np.bool_]


def group_arrays(
    ids: npt.NDArray[np.int64],
    prints: npt.NDArray[np.int64],
    linkable: npt.NDArray[np.bool_],
    hashes: npt.NDArray[np.uint64] | None,
    valid: npt.NDArray[np.bool_] | None,
    max_distance: int,
) -> Grouping:
    """Groups of at least two positions: equal fingerprints (``prints``: one code per distinct fingerprint, -1
    for none; only ``linkable`` ones join, an empty text does not), plus (unless ``hashes`` is None) the near
    stars; a position belongs to one group at most."""
    n = len(ids)
    sources: list[IntArray] = []
    targets: list[IntArray] = []
    joined = np.flatnonzero(linkable).astype(np.intp)
    if len(joined) > 1:  # every position with a shared fingerprint joins the first one with it
        _link_classes(joined, prints[joined], sources, targets)
    if hashes is not None and valid is not None:
        positions, labels = near_labels(hashes, valid, max_distance)
        _link_classes(positions, labels, sources, targets)
    if not sum(len(part) for part in sources):
        return _no_groups()
    left, right = np.concatenate(sources), np.concatenate(targets)
    label = _components(n, left, right)
    members = np.sort(np.concatenate((left, right)))
    members = members[run_starts(members)]
    member_label = label[members]
    first_id = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_id, member_label, ids[members])
    order = np.lexsort((ids[members], first_id[member_label]))
    positions = members[order].astype(np.intp)
    sorted_label = member_label[order]
    starts = np.flatnonzero(run_starts(sorted_label))
    bounds = np.concatenate((starts, [len(positions)])).astype(np.intp)
    codes = prints[positions]
    low, high = np.minimum.reduceat(codes, starts), np.maximum.reduceat(codes, starts)
    return Grouping(positions, bounds, (low == high) & (low >= 0))


def _no_groups() -> Grouping:
    return Grouping(np.empty(0, dtype=np.intp), np.zeros(1, dtype=np.intp), np.empty(0, dtype=bool))


def _link_classes(
    positions: IntArray, labels: npt.NDArray[np.integer], sources: list[IntArray], targets: list[IntArray]
) -> None:
    """Edges from each position to the first position of its class (labels >= 0; classes of one add nothing)."""
    keep = labels >= 0
    positions, labels = positions[keep], labels[keep]
    if len(positions) < 2:
        return
    order = np.lexsort((positions, labels))
    positions, labels = positions[order], labels[order]
    new = run_starts(labels)
    heads = positions[np.flatnonzero(new)][np.cumsum(new) - 1]
    pair = heads != positions
    sources.append(positions[pair])
    targets.append(heads[pair])


def _components(n: int, left: IntArray, right: IntArray) -> IntArray:
    """Connected component of each of ``n`` vertices over the undirected edges, labelled by its smallest vertex.

    Roots hook onto the smallest root across their edges, then every vertex jumps to its root; each round at
    least halves the components still joined by an edge, and each step is one numpy pass (no long GIL hold,
    unlike a compiled graph routine that keeps it for the whole graph)."""
    label = np.arange(n, dtype=np.intp)
    u, v = np.asarray(left, dtype=np.intp), np.asarray(right, dtype=np.intp)
    while len(u):
        ru, rv = label[u], label[v]
        apart = np.flatnonzero(ru != rv)
        if not len(apart):
            break
        u, v, ru, rv = u[apart], v[apart], ru[apart], rv[apart]  # joined edges stay joined: drop them
        high, low = np.maximum(ru, rv), np.minimum(ru, rv)
        order = np.lexsort((low, high))
        high, low = high[order], low[order]
        first = np.flatnonzero(run_starts(high))
        label[high[first]] = low[first]  # a root onto a smaller root: no cycles
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
    return label


def near_labels(
    hashes: npt.NDArray[np.uint64], valid: npt.NDArray[np.bool_], max_distance: int
) -> tuple[IntArray, IntArray]:
    """(positions, label) of the photos whose hashes form one star, or are equal (one label a group, -1 for
    none); malformed or absent hashes never group."""
    positions = np.flatnonzero(valid).astype(np.intp)
    if len(positions) < 2:
        return positions, np.full(len(positions), -1, dtype=np.intp)
    unique, inverse = np.unique(hashes[positions], return_inverse=True)
    inverse = inverse.reshape(-1)
    multiplicity = np.bincount(inverse, minlength=len(unique))
    left, right = near_pairs(unique, max_distance)
    node_label = star_labels(unique, left, right, multiplicity)
    alone = (node_label < 0) & (multiplicity > 1)  # equal hashes, no other neighbour
    node_label[alone] = 2 * len(unique) + np.flatnonzero(alone)  # past the part and star labels
    return positions, node_label[inverse]


def star_labels(unique: npt.NDArray[np.uint64], left: IntArray, right: IntArray, weight: IntArray) -> IntArray:
    """The star of each node (a label, -1 for none): the greedy star cover of the pair graph (module notes)."""
    n_nodes = len(unique)
    star = np.full(n_nodes, -1, dtype=np.intp)
    if not len(left):
        return star
    part = _components(n_nodes, left, right)
    degree = np.bincount(np.concatenate((left, right)), minlength=n_nodes)
    nodes = np.flatnonzero(degree)
    ranked = nodes[np.lexsort((nodes, -weight[nodes], -degree[nodes]))]
    sizes = np.bincount(part[nodes], minlength=n_nodes)
    first = np.full(n_nodes, -1, dtype=np.intp)  # each part's first-ranked node
    _parts, at = np.unique(part[ranked], return_index=True)
    heads = ranked[at]
    first[part[heads]] = heads
    whole = degree[first[part[nodes]]] == sizes[part[nodes]] - 1  # the head is a neighbour of all the others
    star[nodes[whole]] = part[nodes[whole]]
    rest = ~whole[np.searchsorted(nodes, left)]
    if rest.any():
        for members in _stars(unique, left[rest], right[rest], weight):
            star[np.asarray(members, dtype=np.intp)] = n_nodes + members[0]  # past the part labels
    return star


def _stars(unique: npt.NDArray[np.uint64], left: IntArray, right: IntArray, weight: IntArray) -> list[list[int]]:
    """Greedy star cover of the pair graph step by step (see the module notes); deterministic for the same
    hashes. ``star_labels`` sends only the parts it cannot settle at once here."""
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
