"""Every technical measurement of one photo, on a small float32 RGB array (values 0–1, ~512 px long edge).

The measures live one job per module: ``exposure`` (tones), ``detail`` (sharpness, motion blur, noise),
``colour`` and ``composition`` (tilt, thirds), all built on the kernels in ``filters``. Each is a plain numpy
computation, documented with its formula, so the numbers the app shows can be checked by hand. Nothing here
loads files or knows about scores; ``notes`` turns these numbers into scores and words. All work is done in
float32 on arrays, never in Python loops over pixels.

Units: luminance-based values use 8-bit levels (0–255) because photographers know that scale; values that
depend on resolution (sharpness, noise) are only comparable at the analysis size, which is why every photo is
measured at the same ~512 px long edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from artimuse_desktop.scoring.technical.colour import ColourCast, colour_cast, colourfulness
from artimuse_desktop.scoring.technical.composition import Placement, Tilt, horizon_tilt, placement
from artimuse_desktop.scoring.technical.detail import MotionBlur, Sharpness, motion_blur, noise_sigma, sharpness
from artimuse_desktop.scoring.technical.exposure import Tones, tones
from artimuse_desktop.scoring.technical.filters import F32, Array, luma


@dataclass(frozen=True)
class Analysis:
    """Every raw measurement of one photo, at analysis size."""

    width: int
    height: int
    sharpness: Sharpness
    motion: MotionBlur
    tones: Tones
    noise: float
    colourfulness: float
    cast: ColourCast
    tilt: Tilt
    placement: Placement


def analyze(rgb: Array) -> Analysis:
    """Run every measure on one float32 RGB image (H×W×3, values 0–1)."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 RGB array, got shape {rgb.shape}")
    if min(rgb.shape[:2]) < 16:
        raise ValueError(f"image too small to analyse ({rgb.shape[1]}×{rgb.shape[0]} px)")
    rgb = np.asarray(rgb, dtype=F32)
    if not np.isfinite(rgb).all():
        raise ValueError("image has non-finite pixel values")
    y = luma(rgb)
    noise = noise_sigma(y)
    return Analysis(
        width=int(rgb.shape[1]),
        height=int(rgb.shape[0]),
        sharpness=sharpness(y, noise),
        motion=motion_blur(y, noise),
        tones=tones(y),
        noise=noise,
        colourfulness=colourfulness(rgb),
        cast=colour_cast(rgb),
        tilt=horizon_tilt(y),
        placement=placement(y),
    )
