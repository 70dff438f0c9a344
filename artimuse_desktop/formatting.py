"""Small text formats shared by the command line and the GUI (no Qt here)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def format_duration(seconds: float | None, unknown: str = "--:--") -> str:
    """``01:05`` or ``1:02:03``; ``unknown`` for a missing or infinite estimate."""
    if seconds is None or math.isnan(seconds) or math.isinf(seconds):
        return unknown
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type`` for whole numbers of at least ``minimum``, with a readable error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse
