"""Whether a file already in DEST is the photo we are about to export, so the same export twice into one
folder copies nothing again: the same bytes, or the same bytes but for XMP packets (a copy carries our
decisions inside; the original may carry another app's)."""

from __future__ import annotations

import os
from pathlib import Path

from artimuse_desktop.export.embed_xmp import EmbedError, can_embed, without_xmp

CHUNK = 1 << 20


def same_photo(existing: Path, source: Path) -> bool:
    """True when ``existing`` holds ``source``'s photo: the same bytes, or the same bytes but for XMP packets."""
    try:
        existing_size, source_size = os.path.getsize(existing), os.path.getsize(source)
    except OSError:
        return False
    if existing_size == source_size and _same_bytes(existing, source):
        return True
    if not can_embed(existing):
        return False
    try:
        return without_xmp(existing.read_bytes(), existing) == without_xmp(source.read_bytes(), source)
    except (EmbedError, OSError):
        return False


def _same_bytes(a: Path, b: Path) -> bool:
    with open(a, "rb") as first, open(b, "rb") as second:
        while True:
            left, right = first.read(CHUNK), second.read(CHUNK)
            if left != right:
                return False
            if not left:
                return True
