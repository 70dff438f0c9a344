"""Simple ``KEY OP VALUE`` filter expressions (``rating>=3``, ``flag=pick``) parsed into a ``PhotoFilter``.

The command line's ``export``, ``xmp`` and ``trash-rejects`` share this parser so the same words mean the same
thing everywhere. Expressions combine with AND; each one narrows the filter (two minimums keep the higher).
This module imports no database code at load time so ``--help`` stays fast.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from artimuse_desktop.vocabulary import FLAG_WORDS

if TYPE_CHECKING:
    from artimuse_desktop.catalog.filters import PhotoFilter

FILTER_HELP = """\
filter expressions (--filter, repeatable, all must match; quote them for the shell):
  rating>=3  rating=5  rating<2        stars 0-5 (=, >=, <=, >, <)
  flag=pick  flag=reject,none  flag!=reject
                                       pick | reject | none (lists with commas; != excludes)
  label=red  label=red,green  label=none  label!=none
                                       red | yellow | green | blue | purple | none
  score>=70  score<50  score=none      the catalog's score model, 0-100 (score=none: unscored)
  scored=yes | scored=no               has / has not been scored by the score model
  camera=Canon  lens=50mm              case-insensitive substring of make/model or lens (= or ~)
  date>=2024-05-01  date<2024-06-01  date=2024-05-18
                                       capture time; a bare date covers that whole day
  folder=/photos/2024                  that folder and everything below it
  status=ok,error                      ok | error | missing | trashed (default: all but trashed)
  search=sunset                        file names and critiques
  "Composition & Design">=60  attr:technical>=50
                                       an attribute score, 0-100 (names match loosely)
  sharpness>=0.4  measure:noise<=2     a technical measure (any name not listed above)
"""

_OPS = (">=", "<=", "!=", "==", "=", ">", "<", "~")
_EXPR = re.compile(
    r"""^\s*(?:"(?P<dq>[^"]+)"|'(?P<sq>[^']+)'|(?P<key>[^<>=!~"']+?))\s*"""
    r"""(?P<op>>=|<=|!=|==|=|>|<|~)\s*(?P<value>.*?)\s*$""",
    re.DOTALL,
)

_LABEL_NONE = {"none", "no", "unlabeled", "unlabelled", ""}
_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n"}
_STATUSES = ("ok", "error", "missing", "trashed")
_KEYWORDS = {
    "rating": "rating",
    "stars": "rating",
    "flag": "flag",
    "label": "label",
    "color": "label",
    "colour": "label",
    "score": "score",
    "scored": "scored",
    "camera": "camera",
    "lens": "lens",
    "date": "date",
    "captured": "date",
    "folder": "folder",
    "status": "status",
    "search": "search",
    "text": "search",
}


class FilterExpressionError(ValueError):
    """An expression the user typed cannot be understood; the message quotes it and says why."""


def _fail(expr: str, reason: str) -> FilterExpressionError:
    return FilterExpressionError(f"cannot understand the filter {expr!r}: {reason}")


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _number(expr: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _fail(expr, f"{value!r} is not a number") from None
    if math.isnan(number):
        raise _fail(expr, "NaN is not a threshold")
    return number


def _words(value: str) -> list[str]:
    return [part.strip().lower() for part in value.split(",")]


def _parse_when(expr: str, value: str) -> tuple[datetime, bool]:
    """A datetime and whether only a date was given (then it means the whole day)."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time()), True
        return datetime.fromisoformat(value), False
    except ValueError:
        raise _fail(expr, f"{value!r} is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None


def _resolve_name(key: str, quoted: bool) -> tuple[str, str]:
    """("keyword"|"attr"|"measure", canonical name) for a key as typed."""
    from artimuse_desktop.vocabulary import canonical_attribute

    lowered = key.lower()
    if not quoted and lowered in _KEYWORDS:
        return "keyword", _KEYWORDS[lowered]
    if lowered.startswith("attr:"):
        return "attr", canonical_attribute(key[5:].strip().strip("\"'"))
    if lowered.startswith("measure:"):
        return "measure", key[8:].strip().strip("\"'")
    squashed = "".join(ch for ch in lowered if ch.isalnum())
    if len(squashed) >= 3:
        try:
            return "attr", canonical_attribute(key)
        except ValueError:
            pass
    return "measure", key


class _Builder:
    def __init__(self, flt: PhotoFilter) -> None:
        self.flt = flt

    # -- numeric bounds -------------------------------------------------------------------------------
    @staticmethod
    def _bounds(expr: str, op: str, number: float, *, integer: bool) -> tuple[float | None, float | None]:
        step = 1.0 if integer else 0.0
        if op in ("=", "=="):
            return number, number
        if op == ">=":
            return number, None
        if op == "<=":
            return None, number
        if op == ">":
            return (number + step if integer else math.nextafter(number, math.inf)), None
        if op == "<":
            return None, (number - step if integer else math.nextafter(number, -math.inf))
        raise _fail(expr, f"the operator {op!r} does not work with numbers (use =, >=, <=, > or <)")

    @staticmethod
    def _tighter_min(old: float | None, new: float | None) -> float | None:
        if new is None:
            return old
        return new if old is None else max(old, new)

    @staticmethod
    def _tighter_max(old: float | None, new: float | None) -> float | None:
        if new is None:
            return old
        return new if old is None else min(old, new)

    # -- keys ---------------------------------------------------------------------------------------
    def rating(self, expr: str, op: str, value: str) -> None:
        number = _number(expr, value)
        if number != int(number) or not 0 <= number <= 5:
            raise _fail(expr, "ratings are whole stars from 0 to 5")
        low, high = self._bounds(expr, op, number, integer=True)
        flt = self.flt
        new_min = self._tighter_min(flt.min_rating, low)
        new_max = self._tighter_max(flt.max_rating, high)
        flt.min_rating = None if new_min is None else int(new_min)
        flt.max_rating = None if new_max is None else int(new_max)

    def flag(self, expr: str, op: str, value: str) -> None:
        wanted: set[int] = set()
        for word in _words(value):
            if word not in FLAG_WORDS:
                raise _fail(expr, f"unknown flag {word!r}; use pick, reject or none")
            wanted.add(FLAG_WORDS[word])
        self._set_membership(expr, op, "flags", wanted, {-1, 0, 1})

    def label(self, expr: str, op: str, value: str) -> None:
        from artimuse_desktop.vocabulary import COLOR_LABELS

        wanted: set[str | None] = set()
        for word in _words(value):
            if word in _LABEL_NONE:
                wanted.add(None)
            elif word == "purple" or word == "magenta":
                wanted.add("purple")
            elif word in COLOR_LABELS:
                wanted.add(word)
            else:
                raise _fail(expr, f"unknown colour label {word!r}; use {', '.join(COLOR_LABELS)} or none")
        universe: set[str | None] = {*COLOR_LABELS, None}
        self._set_membership(expr, op, "color_labels", wanted, universe)

    def status(self, expr: str, op: str, value: str) -> None:
        wanted = set()
        for word in _words(value):
            if word not in _STATUSES:
                raise _fail(expr, f"unknown status {word!r}; use {', '.join(_STATUSES)}")
            wanted.add(word)
        self._set_membership(expr, op, "statuses", wanted, set(_STATUSES))

    def _set_membership(self, expr: str, op: str, attribute: str, wanted: set[Any], universe: set[Any]) -> None:
        if op in ("=", "=="):
            chosen = wanted
        elif op == "!=":
            chosen = universe - wanted
        else:
            raise _fail(expr, f"use = or != here, not {op!r}")
        current = getattr(self.flt, attribute)
        if current is not None:
            chosen = set(current) & chosen
        if not chosen:
            # An empty set means "no filter" in PhotoFilter; an impossible filter must match nothing instead.
            self.flt.ids = []
        setattr(self.flt, attribute, chosen)

    def score(self, expr: str, op: str, value: str) -> None:
        if value.lower() in ("none", "na", "unscored"):
            if op not in ("=", "==", "!="):
                raise _fail(expr, "use score=none or score!=none")
            self.scored(expr, "=", "no" if op != "!=" else "yes")
            return
        low, high = self._bounds(expr, op, _number(expr, value), integer=False)
        self.flt.min_score = self._tighter_min(self.flt.min_score, low)
        self.flt.max_score = self._tighter_max(self.flt.max_score, high)

    def scored(self, expr: str, op: str, value: str) -> None:
        if op not in ("=", "=="):
            raise _fail(expr, "use scored=yes or scored=no")
        word = value.lower()
        if word not in _YES | _NO:
            raise _fail(expr, "use scored=yes or scored=no")
        wanted = word in _YES
        if self.flt.scored is not None and self.flt.scored != wanted:
            self.flt.ids = []
        self.flt.scored = wanted

    def _substring(self, expr: str, op: str, value: str, attribute: str) -> None:
        if op not in ("=", "==", "~"):
            raise _fail(expr, f"use = or ~ (contains), not {op!r}")
        if not value:
            raise _fail(expr, "give some text to look for")
        if getattr(self.flt, attribute):
            raise _fail(expr, f"{attribute} is already filtered; give it once")
        setattr(self.flt, attribute, value)

    def camera(self, expr: str, op: str, value: str) -> None:
        self._substring(expr, op, value, "camera")

    def lens(self, expr: str, op: str, value: str) -> None:
        self._substring(expr, op, value, "lens")

    def search(self, expr: str, op: str, value: str) -> None:
        self._substring(expr, op, value, "search")

    def folder(self, expr: str, op: str, value: str) -> None:
        if op not in ("=", "=="):
            raise _fail(expr, "use folder=PATH")
        if self.flt.folder:
            raise _fail(expr, "folder is already filtered; give it once")
        self.flt.folder = os.path.abspath(os.path.expanduser(value))

    def date(self, expr: str, op: str, value: str) -> None:
        when, whole_day = _parse_when(expr, value)
        day_end = when + timedelta(days=1) - timedelta(microseconds=1) if whole_day else when
        tiny = timedelta(microseconds=1)
        low: datetime | None
        high: datetime | None
        if op in ("=", "=="):
            low, high = when, day_end
        elif op == ">=":
            low, high = when, None
        elif op == ">":
            low, high = day_end + tiny, None
        elif op == "<=":
            low, high = None, day_end
        elif op == "<":
            low, high = None, when - tiny
        else:
            raise _fail(expr, f"the operator {op!r} does not work with dates")
        flt = self.flt
        if low is not None:
            flt.date_from = low if flt.date_from is None else max(flt.date_from, low)
        if high is not None:
            flt.date_to = high if flt.date_to is None else min(flt.date_to, high)

    def threshold(self, expr: str, op: str, value: str, kind: str, name: str) -> None:
        low, high = self._bounds(expr, op, _number(expr, value), integer=False)
        mins = self.flt.attr_min if kind == "attr" else self.flt.measure_min
        maxs = self.flt.attr_max if kind == "attr" else self.flt.measure_max
        new_min = self._tighter_min(mins.get(name), low)
        new_max = self._tighter_max(maxs.get(name), high)
        if new_min is not None:
            mins[name] = new_min
        if new_max is not None:
            maxs[name] = new_max


def parse_filter_expression(expr: str, flt: PhotoFilter) -> None:
    """Narrow ``flt`` in place by one expression; raises FilterExpressionError with a readable reason."""
    match = _EXPR.match(expr)
    if not match:
        raise _fail(expr, "expected KEY OP VALUE, e.g. rating>=3 or flag=pick")
    quoted = match.group("dq") or match.group("sq")
    key = (quoted or match.group("key") or "").strip()
    op = match.group("op")
    value = _unquote(match.group("value"))
    if not key:
        raise _fail(expr, "the key is missing")
    if any(other in value for other in ("<=", ">=", "!=")) and not quoted:
        raise _fail(expr, "one operator per expression; give several --filter options instead")
    try:
        kind, name = _resolve_name(key, bool(quoted))
    except ValueError as exc:
        raise _fail(expr, str(exc)) from None
    builder = _Builder(flt)
    if kind == "keyword":
        getattr(builder, name)(expr, op, value)
    else:
        if not name:
            raise _fail(expr, "the name is missing")
        builder.threshold(expr, op, value, kind, name)


def parse_filter_expressions(expressions: Iterable[str], base: PhotoFilter | None = None) -> PhotoFilter:
    """A ``PhotoFilter`` matching every expression (AND); ``base`` is narrowed in place when given."""
    from artimuse_desktop.catalog.filters import PhotoFilter

    flt = base if base is not None else PhotoFilter()
    for expr in expressions:
        parse_filter_expression(expr, flt)
    return flt
