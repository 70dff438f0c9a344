"""File names in reports: shown readably, kept exactly.

Python holds a file name that is not valid UTF-8 as a ``str`` with surrogate escapes (``os.fsdecode``); such
a string cannot be written as UTF-8, and one of them used to abort every report of an export after the copies
were made. CSV and HTML show those names with U+FFFD where the bad bytes were; JSON shows the same and carries
the exact bytes beside it, base64-encoded, so a script can still find the file.
"""

from __future__ import annotations

import base64
from typing import Any


def raw_bytes(text: str) -> bytes:
    """The bytes a name stands for (surrogate escapes back to their bytes; other lone surrogates as UTF-8)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def is_valid(text: str) -> bool:
    """True when ``text`` can be written as UTF-8 as it is (no surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(text: str) -> str:
    """``text`` for people: bytes that are not UTF-8 become U+FFFD, valid text is returned unchanged."""
    return text if is_valid(text) else raw_bytes(text).decode("utf-8", "replace")


def shown_or_none(text: str | None) -> str | None:
    return None if text is None else shown(text)


def bytes_b64(text: str) -> str | None:
    """The exact bytes of a name that is not valid UTF-8, base64-encoded; None for a valid name."""
    return None if is_valid(text) else base64.b64encode(raw_bytes(text)).decode("ascii")


def shown_everywhere(value: Any) -> Any:
    """A JSON-ready value with every string (keys included) made writable as UTF-8 by ``shown``."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {shown_everywhere(key): shown_everywhere(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [shown_everywhere(item) for item in value]
    return value
