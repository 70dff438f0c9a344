"""The grid's ordered photo ids as one numpy array, with row look-ups that cost O(log N), never a Python loop.

At 300,000 photos a Python list of ids and a ``{id: row}`` dict cost about 40 MB and 60 ms to build on the GUI
thread each time the view changes; an int64 array is 2.4 MB, its sorted copy (built once, on the first
look-up) answers "which row shows this photo" by binary search, for one id or a whole selection at once.
No Qt here: the model and the selection helpers build on it.

A *partial* list (``IdList.partial``) has the view's length but knows only some rows (the first screens, read
before the whole list; pages read by offset since): unknown rows hold -1 and read as None. Look-ups on it are
one vectorized pass (a fraction of a millisecond at 300,000) instead of a sorted index, which would have to be
rebuilt each time a page is filled in.

numpy is imported on first use, not with the module: the window's first view is built on a worker thread,
which imports it there (``prepare``), so the GUI thread's start-up does not pay for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    IdArray = npt.NDArray[np.int64]
    Rows = npt.NDArray[np.intp]


#: More wanted ids than this are looked up in one pass over the rows rather than one binary search each.
MANY_IDS = 4096
#: The widest id range the one-pass look-up's table (a byte per id) may cover.
TABLE_SPAN = 64_000_000


def _np() -> Any:
    import numpy

    return numpy


def as_id_array(ids: Sequence[int] | Iterable[int] | IdArray) -> IdArray:
    """An int64 array of ``ids`` (no copy when it is one already)."""
    np = _np()
    if isinstance(ids, np.ndarray):
        array: IdArray = ids.astype(np.int64, copy=False)
        return array
    if not isinstance(ids, Sequence):
        ids = list(ids)
    array = np.fromiter(ids, dtype=np.int64, count=len(ids))
    return array


def empty_rows() -> Rows:
    rows: Rows = _np().empty(0, dtype=_np().intp)
    return rows


class IdList:
    """Photo ids in grid order; ``rows_of`` maps ids back to rows."""

    __slots__ = ("_complete", "_ids", "_order", "_sorted")

    UNKNOWN = -1

    def __init__(self, ids: Sequence[int] | IdArray = ()) -> None:
        self._ids: IdArray | None = as_id_array(ids) if len(ids) else None
        self._order: Rows | None = None
        self._sorted: IdArray | None = None
        self._complete = True

    @classmethod
    def partial(cls, head: Sequence[int] | IdArray, length: int) -> IdList:
        """``length`` rows of which the first ``len(head)`` are known (a complete list when they are all)."""
        np = _np()
        head_array = as_id_array(head)
        if head_array.shape[0] >= length:
            return cls(head_array[:length])
        ids = np.full(length, cls.UNKNOWN, dtype=np.int64)
        ids[: head_array.shape[0]] = head_array
        made = cls(ids)
        made._complete = False
        return made

    @property
    def complete(self) -> bool:
        """Every row's id is known."""
        return self._complete

    def known(self, start: int, stop: int) -> bool:
        """Every row of ``start:stop`` is known."""
        if self._complete or self._ids is None:
            return True
        return bool((self._ids[max(0, start) : max(0, stop)] >= 0).all())

    def fill(self, start: int, ids: Sequence[int] | IdArray) -> None:
        """Rows from ``start`` on are these ids (an offset page read before the whole list came)."""
        if self._complete or self._ids is None:
            return
        chunk = as_id_array(ids)[: max(0, self._ids.shape[0] - start)]
        self._ids[start : start + chunk.shape[0]] = chunk

    def agrees_with(self, full: IdList) -> bool:
        """``full`` has this list's length and every known row of this one (the view did not change since)."""
        if len(self) != len(full):
            return False
        if self._ids is None or full._ids is None:
            return True
        np = _np()
        known = self._ids >= 0
        return bool(np.array_equal(self._ids[known], full._ids[known]))

    def __len__(self) -> int:
        return 0 if self._ids is None else int(self._ids.shape[0])

    def prepare(self) -> IdList:
        """Build the look-up index now (on a worker thread, before the GUI thread needs it)."""
        if self._ids is not None and self._complete:
            self._index()
        return self

    @property
    def array(self) -> IdArray:
        """The ids as a read-only array (the grid's order is the model's to change)."""
        if self._ids is None:
            return as_id_array([])
        view = self._ids.view()
        view.flags.writeable = False
        return view

    def equals(self, other: IdList) -> bool:
        if len(self) != len(other):
            return False
        return self._ids is None or other._ids is None or bool(_np().array_equal(self._ids, other._ids))

    def at(self, row: int) -> int | None:
        if self._ids is None or not 0 <= row < self._ids.shape[0]:
            return None
        found = int(self._ids[row])
        return found if found >= 0 else None

    def slice(self, start: int, stop: int) -> list[int]:
        """The known ids of rows ``start:stop`` (unknown rows are left out)."""
        if self._ids is None:
            return []
        part = self._ids[max(0, start) : max(0, stop)]
        chunk: list[int] = (part if self._complete else part[part >= 0]).tolist()
        return chunk

    def tolist(self) -> list[int]:
        return self.slice(0, len(self))

    def _index(self) -> tuple[Rows, IdArray]:
        assert self._ids is not None
        if self._order is None or self._sorted is None:
            self._order = _np().argsort(self._ids, kind="stable")
            self._sorted = self._ids[self._order]
        return self._order, self._sorted

    def row_of(self, photo_id: int) -> int | None:
        if self._ids is None or photo_id < 0:
            return None
        np = _np()
        if not self._complete:
            hits = np.flatnonzero(self._ids == photo_id)
            return int(hits[0]) if hits.shape[0] else None
        order, ordered = self._index()
        at = int(_np().searchsorted(ordered, photo_id))
        if at < ordered.shape[0] and int(ordered[at]) == photo_id:
            return int(order[at])
        return None

    def rows_of(self, photo_ids: Sequence[int] | IdArray) -> Rows:
        """The rows showing these ids, ascending; ids not shown are left out.

        A few ids: binary search in the sorted index. Many (a selection of everything): one pass over the
        rows with a lookup table of the wanted ids (3 ms for 300,000 where 300,000 binary searches at random
        places take 150 ms)."""
        if self._ids is None or not len(photo_ids):
            return empty_rows()
        np = _np()
        wanted = as_id_array(photo_ids)
        if not self._complete or wanted.shape[0] > MANY_IDS:
            wanted = wanted[wanted >= 0]
            if not wanted.shape[0]:
                return empty_rows()
            span = int(wanted.max()) - int(wanted.min())
            kind = "table" if wanted.shape[0] > MANY_IDS and span < TABLE_SPAN else None
            scanned: Rows = np.flatnonzero(np.isin(self._ids, wanted, kind=kind))
            return scanned
        order, ordered = self._index()
        at = np.searchsorted(ordered, wanted)
        at[at >= ordered.shape[0]] = 0
        found = ordered[at] == wanted
        rows: Rows = np.unique(order[at[found]])
        return rows

    def ids_at(self, rows: Rows) -> list[int]:
        ids: list[int] = self.array_at(rows).tolist()
        return ids

    def array_in_runs(self, spans: Iterable[tuple[int, int]]) -> IdArray:
        """The known ids of these (first, last) runs of rows, in their order: slices, no row array."""
        if self._ids is None:
            return as_id_array([])
        np = _np()
        parts = [self._ids[max(0, first) : last + 1] for first, last in spans if last >= first]
        if not parts:
            return as_id_array([])
        chosen: IdArray = parts[0].copy() if len(parts) == 1 else np.concatenate(parts)
        known: IdArray = chosen if self._complete else chosen[chosen >= 0]
        return known

    def array_at(self, rows: Rows) -> IdArray:
        """The known ids of these rows as an array (no Python int per photo: a selection of everything)."""
        if self._ids is None or not rows.shape[0]:
            return as_id_array([])
        chosen = self._ids[rows]
        known: IdArray = chosen if self._complete else chosen[chosen >= 0]
        return known


def runs(rows: Rows) -> list[tuple[int, int]]:
    """Sorted unique rows as (first, last) runs of consecutive rows: one selection range per run."""
    if not rows.shape[0]:
        return []
    np = _np()
    breaks = np.flatnonzero(np.diff(rows) != 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [rows.shape[0] - 1]))
    return [(int(a), int(b)) for a, b in zip(rows[starts].tolist(), rows[ends].tolist(), strict=True)]


def rows_in_runs(spans: Iterable[tuple[int, int]]) -> Rows:
    """The rows of (first, last) runs, ascending and unique."""
    spans = list(spans)
    if not spans:
        return empty_rows()
    np = _np()
    parts = [np.arange(first, last + 1, dtype=np.intp) for first, last in spans if last >= first]
    if not parts:
        return empty_rows()
    rows: Rows = np.unique(np.concatenate(parts)) if len(parts) > 1 else parts[0]
    return rows
