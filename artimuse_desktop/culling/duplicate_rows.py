"""What duplicate grouping reads about every photo, as plain columns: no ORM rows, few Python objects.

``load_columns`` (the "Duplicates" collection, run beside the window) asks the database for each column as ONE
text: the ids, the fingerprints ("+" before each, nothing for none) and the hashes, joined with commas by
``group_concat`` / ``string_agg`` (one pass, so the columns line up; the database does the work with the GIL
released). numpy then cuts the texts into arrays: hashes through a nibble table, fingerprints as rows of
64-bit words sorted by a mixed hash and compared word for word. 300,000 photos cost a few hundred
milliseconds and no per-photo tuple, so neither long GIL holds nor garbage-collector passes over hundreds of
thousands of young objects (the window stalled 100-290 ms at a time on the row-by-row ORM read). A hash or
fingerprint holding a comma would shift the fields: the count tells, and the read falls back to plain rows.
(A window function comparing fingerprints in SQL was tried: 2 s on 300,000 rows in SQLite.)

``load_rows`` is the row-by-row read (Core statements, no ORM) for ``find_duplicates``, which needs the
fingerprint texts of the group members for the keep rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, String, cast, func, literal, select

from artimuse_desktop.catalog.constants import STATUS_OK
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.tables import photos
from artimuse_desktop.culling.hash_index import parse_hash_fields, parse_hashes, run_starts

_PART = 5_000  # rows a partition of the row-by-row read (each is one short stretch holding the GIL)
_COMMA = ord(",")
_LENGTHS = 8  # distinct fingerprint lengths compared as numpy rows; more go through a dictionary
_LONGEST = 256  # bytes
_GATHER_ROWS = 20_000
_RANGE_ROWS = 50_000  # photos a joined read


@dataclass(frozen=True)
class Item:
    """What grouping needs to know about one photo."""

    photo_id: int
    fingerprint: str | None = None
    phash: str | None = None


@dataclass(frozen=True)
class Rows:
    """What grouping reads about every photo, as parallel lists."""

    ids: list[int]
    fingerprints: list[str | None]
    phashes: list[str | None]

    @classmethod
    def of(cls, items: Sequence[Item]) -> Rows:
        return cls([i.photo_id for i in items], [i.fingerprint for i in items], [i.phash for i in items])


@dataclass(frozen=True)
class Columns:
    """The same as arrays: ``prints`` is one code per distinct fingerprint (-1: none), ``linkable`` where a
    fingerprint may join exact copies (not empty), ``hashes`` and ``valid`` as ``parse_hashes`` gives them."""

    ids: npt.NDArray[np.int64]
    prints: npt.NDArray[np.int64]
    linkable: npt.NDArray[np.bool_]
    hashes: npt.NDArray[np.uint64]
    valid: npt.NDArray[np.bool_]


def columns_of(ids: Sequence[int], fingerprints: Sequence[str | None], phashes: Sequence[str | None]) -> Columns:
    """Columns from plain lists (a dictionary numbers the fingerprints: one short Python step each)."""
    codes: dict[str, int] = {}
    prints = np.fromiter(
        (-1 if f is None else codes.setdefault(f, len(codes)) for f in fingerprints), dtype=np.int64, count=len(ids)
    )
    linkable = np.fromiter((bool(f) for f in fingerprints), dtype=bool, count=len(ids))
    hashes, valid = parse_hashes(phashes)
    return Columns(np.asarray(ids, dtype=np.int64).reshape(-1), prints, linkable, hashes, valid)


def load_rows(catalog: Catalog) -> Rows:
    """Every readable photo (status ok) with what grouping needs, by id; missing and broken files never group."""
    stmt = (
        select(photos.c.id, photos.c.fingerprint, photos.c.phash)
        .where(photos.c.status == STATUS_OK)
        .order_by(photos.c.id)
    )
    ids: list[int] = []
    fingerprints: list[str | None] = []
    phashes: list[str | None] = []
    with catalog.connect_read() as connection:
        for part in connection.execute(stmt).partitions(_PART):
            part_ids, part_prints, part_hashes = zip(*part, strict=True)
            ids.extend(part_ids)
            fingerprints.extend(part_prints)
            phashes.extend(part_hashes)
    return Rows(ids, fingerprints, phashes)


def load_columns(catalog: Catalog) -> Columns:
    """``load_rows`` as arrays, read as one joined text a column (module notes), in id order: in id ranges of
    about ``_RANGE_ROWS`` photos (one read transaction), so that turning a text into a Python string is short."""
    parts: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64], npt.NDArray[np.bool_], bytes]] = []
    with catalog.connect_read() as connection:
        chosen = photos.c.status == STATUS_OK
        count, low, high = connection.execute(
            select(func.count(), func.min(photos.c.id), func.max(photos.c.id)).where(chosen)
        ).one()
        if not count:
            return columns_of([], [], [])
        ranges = -(-int(count) // _RANGE_ROWS)
        edges = np.linspace(int(low), int(high) + 1, ranges + 1).astype(np.int64).tolist()
        for start, stop in pairwise(edges):
            row = connection.execute(_joined_statement(start, stop)).one()
            if not row[0]:
                continue
            part = _parse_range(*row)
            if part is None:  # a hash or fingerprint with a comma in it: the fields do not line up
                rows = load_rows(catalog)
                return columns_of(rows.ids, rows.fingerprints, rows.phashes)
            parts.append(part)
    ids = np.concatenate([part[0] for part in parts])
    coded = _fingerprint_codes(b",".join(part[3] for part in parts), len(ids))
    if coded is None:
        rows = load_rows(catalog)
        return columns_of(rows.ids, rows.fingerprints, rows.phashes)
    order = np.argsort(ids, kind="stable")
    hashes = np.concatenate([part[1] for part in parts])
    valid = np.concatenate([part[2] for part in parts])
    return Columns(ids[order], coded[0][order], coded[1][order], hashes[order], valid[order])


def _joined_statement(start: int, stop: int) -> Select[int, str, str, str]:
    chosen = (
        select(photos.c.id, photos.c.fingerprint, photos.c.phash)
        .where(photos.c.status == STATUS_OK, photos.c.id >= start, photos.c.id < stop)
        .subquery()
    )
    return select(
        func.count(),
        func.aggregate_strings(cast(chosen.c.id, String), ","),
        # "+" before a fingerprint, nothing for none: an empty fingerprint stays told apart from a missing one
        func.aggregate_strings(func.coalesce(literal("+").concat(chosen.c.fingerprint), ""), ","),
        func.aggregate_strings(func.coalesce(chosen.c.phash, ""), ","),
    )


def _parse_range(
    count: int, id_text: str, print_text: str, hash_text: str
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64], npt.NDArray[np.bool_], bytes] | None:
    """(ids, hashes, valid, fingerprint bytes) of one range's joined texts, in the texts' order; None when the
    hash text does not come out ``count`` fields long."""
    ids = np.fromstring(id_text, dtype=np.int64, sep=",")
    if len(ids) != count:
        raise ValueError(f"the catalog's photo ids came back as {len(ids)} values for {count} photos")
    # "replace" keeps one byte a character, so a hash that is not ASCII stays its length (and invalid)
    raw = np.frombuffer(hash_text.encode("ascii", "replace"), dtype=np.uint8)
    commas = np.flatnonzero(raw == _COMMA)
    if len(commas) != count - 1:
        return None
    starts = np.concatenate(([0], commas + 1))
    lengths = np.concatenate((commas, [len(raw)])) - starts
    hashes, valid = parse_hash_fields(raw, starts, lengths)
    return ids, hashes, valid, print_text.encode("utf-8")  # a comma byte is never inside another character


def _fingerprint_codes(text: bytes, count: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]] | None:
    """(code, linkable) of each "+fingerprint" field of the UTF-8 ``text``: equal fingerprints share a code, -1
    for none; None when the text does not hold ``count`` fields."""
    raw = np.frombuffer(text, dtype=np.uint8)
    commas = np.flatnonzero(raw == _COMMA)
    if len(commas) != count - 1:
        return None
    starts = np.concatenate(([0], commas + 1))
    lengths = np.concatenate((commas, [len(raw)])) - starts
    codes = _equal_fields(raw, starts, lengths)
    if codes is None:  # many lengths, very long texts or a hash collision: a dictionary decides
        codes = _dictionary_codes(text.decode("utf-8"))
    return np.where(lengths == 0, -1, codes), lengths > 1


def _equal_fields(
    raw: npt.NDArray[np.uint8], starts: npt.NDArray[np.intp], lengths: npt.NDArray[np.intp]
) -> npt.NDArray[np.int64] | None:
    """One code a distinct field (the position of a field with the same bytes), in numpy: the fields of each
    length become rows of 64-bit words, a mixed hash of the words sorts equal rows together, and the words are
    compared to make sure. None where that does not apply (fingerprints are one length, or a few)."""
    kinds = np.unique(lengths)
    if len(kinds) > _LENGTHS or int(kinds[-1]) > _LONGEST:
        return None
    codes = np.arange(len(starts), dtype=np.int64)
    for length in kinds.tolist():
        rows = np.flatnonzero(lengths == length)
        if length == 0 or len(rows) < 2:
            continue
        width = -(-length // 8) * 8
        words = np.zeros((len(rows), width), dtype=np.uint8)
        for first in range(0, len(rows), _GATHER_ROWS):  # bounded index arrays
            part = rows[first : first + _GATHER_ROWS]
            words[first : first + len(part), :length] = raw[starts[part][:, None] + np.arange(length)]
        columns = words.view(np.uint64)
        mixed = np.zeros(len(rows), dtype=np.uint64)
        for column in range(columns.shape[1]):
            mixed = (mixed ^ columns[:, column]) * np.uint64(0x9E3779B97F4A7C15)
            mixed ^= mixed >> np.uint64(29)
        order = np.argsort(mixed, kind="stable")
        heads = np.flatnonzero(run_starts(mixed[order]))
        head_of = heads[np.cumsum(run_starts(mixed[order])) - 1]
        if not (columns[order] == columns[order][head_of]).all():
            return None  # two different fingerprints with one hash
        codes[rows[order]] = rows[order][head_of]
    return codes


def _dictionary_codes(text: str) -> npt.NDArray[np.int64]:
    """``_equal_fields`` by a dictionary (the last position holding each text), piece by piece so that no
    single call holds the GIL for long."""
    pieces = [piece.split(",") for piece in _pieces(text)]
    last: dict[str, int] = {}
    offset = 0
    for piece in pieces:
        last.update(zip(piece, range(offset, offset + len(piece)), strict=True))
        offset += len(piece)
    return np.concatenate(
        [np.fromiter(map(last.__getitem__, piece), dtype=np.int64, count=len(piece)) for piece in pieces]
    )


def _pieces(text: str, size: int = 1 << 18) -> list[str]:
    """``text`` cut after commas into pieces of about ``size`` characters (fields stay whole)."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        cut = text.find(",", start + size)
        stop = len(text) if cut < 0 else cut
        pieces.append(text[start:stop])
        start = stop + 1
        if cut >= 0 and start == len(text):  # a last empty field after a final comma
            pieces.append("")
    return pieces or [""]
