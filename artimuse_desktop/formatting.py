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


def count_text(count: int, noun: str, plural: str | None = None) -> str:
    """ "1 photo", "2,400 photos", "0 photos": the number with its noun, singular only for exactly one."""
    word = noun if count == 1 else (plural or f"{noun}s")
    return f"{count:,} {word}"


# --------------------------------------------------------------------------- camera names

#: Company words cameras append to their make ("NIKON CORPORATION", "OLYMPUS IMAGING CORP.", "Minolta Co., Ltd.").
_COMPANY_WORDS = frozenset(
    {"corporation", "corp", "co", "ltd", "inc", "company", "imaging", "optical", "camera", "ag", "gmbh", "limited"}
)
#: How brands write their own name where EXIF shouts it ("NIKON" → "Nikon"); other makes are kept as written.
_BRANDS: dict[str, str] = {
    name.lower(): name
    for name in (
        "Nikon", "Canon", "Sony", "Olympus", "Pentax", "Panasonic", "Samsung", "Ricoh", "Leica", "Kodak",
        "Huawei", "Minolta", "Konica Minolta", "Casio", "Sigma", "Hasselblad", "Apple", "Google", "Xiaomi",
        "GoPro", "FUJIFILM", "DJI", "OM Digital Solutions", "Phase One", "Mamiya", "Epson",
    )
}  # fmt: skip
_BRANDS["eastman kodak"] = "Kodak"


def _brand(make: str) -> str:
    """The make without its company words, a shouted one in the brand's own spelling: "NIKON CORPORATION" →
    "Nikon" (a make already written in mixed case is kept as written)."""
    words = make.replace(",", " ").split()
    while len(words) > 1 and words[-1].lower().strip(".") in _COMPANY_WORDS:
        words.pop()
    short = " ".join(words)
    return _BRANDS.get(short.lower(), short) if short.isupper() else short


def _after_prefix(model: str, prefix: str) -> str | None:
    """``model`` without a leading ``prefix`` (any case, a whole word); None when it does not start so."""
    if not prefix or not model.lower().startswith(prefix.lower()):
        return None
    rest = model[len(prefix) :]
    if rest and not rest.startswith(" "):
        return None  # "Canon" is no prefix of "Canonet", nor "OM" of "OM-1"
    return rest.strip()


def camera_name(make: str | None, model: str | None) -> str | None:
    """The camera as people say it, the make once: "Nikon" + "Nikon SUPER COOLSCAN 5000 ED" → "Nikon SUPER
    COOLSCAN 5000 ED", "NIKON CORPORATION" + "NIKON D850" → "Nikon D850", "SONY" + "ILCE-7M3" → "Sony ILCE-7M3".

    The one rule for the side panel, the grid, reports and export names; the catalog keeps the file's own text.
    """
    make = " ".join((make or "").split())
    model = " ".join((model or "").split())
    if not make:
        return model or None
    brand = _brand(make)
    if not model:
        return brand
    for prefix in dict.fromkeys((make, brand, make.split()[0])):
        rest = _after_prefix(model, prefix)
        if rest is not None:
            return f"{brand} {rest}".strip()
    return f"{brand} {model}"


# --------------------------------------------------------------------------- measure names

#: The technical analyzer's measures as people read them (docs/technical-analyzer.md); the snake_case names
#: stay what filters, sorts and CSV columns use.
MEASURE_LABELS: dict[str, str] = {
    "sharpness_score": "Sharpness",
    "sharpness": "Sharpness (whole frame)",
    "sharpness_region": "Sharpness (best region)",
    "motion_blur": "Motion blur",
    "highlights_clipped": "Clipped highlights",
    "shadows_clipped": "Clipped shadows",
    "mean_luminance": "Brightness",
    "contrast_rms": "Contrast",
    "tonal_range": "Tonal range",
    "noise": "Noise",
    "colourfulness": "Colourfulness",
    "colour_cast": "Colour cast",
    "horizon_tilt": "Horizon tilt",
    "thirds_distance": "Distance from thirds",
}


def measure_label(name: str) -> str:
    """ "Colour cast" for ``colour_cast``; an unknown measure reads as its name in words."""
    return MEASURE_LABELS.get(name) or name.replace("_", " ").strip().capitalize() or name
