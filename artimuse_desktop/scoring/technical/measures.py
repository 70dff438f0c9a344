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

from artimuse_desktop.scoring.technical import faces
from artimuse_desktop.scoring.technical.colour import ColourCast, colour_cast, colourfulness
from artimuse_desktop.scoring.technical.composition import Placement, Tilt, horizon_tilt, placement
from artimuse_desktop.scoring.technical.detail import MotionBlur, Sharpness, motion_blur, noise_sigma, sharpness
from artimuse_desktop.scoring.technical.exposure import Tones, tones
from artimuse_desktop.scoring.technical.filters import F32, Array, luma
from artimuse_desktop.scoring.technical.saliency import spectral_residual
from artimuse_desktop.scoring.technical.subject import (
    FaceReport,
    SubjectTones,
    check_faces,
    subject_tones,
    subject_weights,
)


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
    subject: SubjectTones | None = None  # exposure where the subject is (faces, else saliency)
    faces: FaceReport | None = None  # None: faces not asked for; ``unavailable`` set: could not run
    source_size: tuple[int, int] | None = None  # the original's pixels (width, height), when known


def run_faces(rgb: Array) -> tuple[list[faces.Face], str | None]:
    """Faces of the frame, or none and the reason face analysis could not run (missing extra, bad model)."""
    reason = faces.unavailable_reason()
    if reason is not None:
        return [], reason
    try:
        return list(faces.find_faces(rgb)), None
    except (OSError, RuntimeError, ValueError, ImportError) as exc:
        return [], f"face analysis failed: {exc or type(exc).__name__}"


def analyze(rgb: Array, with_faces: bool = True, source_size: tuple[int, int] | None = None) -> Analysis:
    """Run every measure on one float32 RGB image (H×W×3, values 0–1).

    ``with_faces``: look for faces and eyes (when the optional face models are installed); ``source_size``:
    the original's pixel size, for the resolution measure (the array itself is always ~512 px).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 RGB array, got shape {rgb.shape}")
    if min(rgb.shape[:2]) < 16:
        raise ValueError(f"image too small to analyse ({rgb.shape[1]}×{rgb.shape[0]} px)")
    rgb = np.asarray(rgb, dtype=F32)
    if not np.isfinite(rgb).all():
        raise ValueError("image has non-finite pixel values")
    y = luma(rgb)
    noise = noise_sigma(y)
    sal = spectral_residual(y)
    where = placement(y, sal)
    report: FaceReport | None = None
    if with_faces:
        found, reason = run_faces(rgb)
        report = FaceReport(unavailable=reason) if reason else check_faces(y, found, noise)
    weights, source, confidence = subject_weights(y.shape, report, sal, where.confidence)
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
        placement=where,
        subject=subject_tones(y, weights, source, confidence),
        faces=report,
        source_size=source_size,
    )
