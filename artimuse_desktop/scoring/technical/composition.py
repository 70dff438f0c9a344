"""Composition that pixels can show honestly: horizon tilt (Hough on Sobel edges) and rule-of-thirds placement."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from artimuse_desktop.scoring.technical.filters import F32, Array, sobel
from artimuse_desktop.scoring.technical.saliency import SalientCenter, salient_center, spectral_residual

# ------------------------------------------------------------------------------------------------------ tilt


@dataclass(frozen=True)
class Tilt:
    degrees: float  # signed: positive when the line rises to the right (the frame needs a clockwise turn)
    line_strength: float  # votes on the line divided by the frame width: about 1 for a full-width crisp line
    found: bool


def horizon_tilt(
    y: Array, max_angle: float = 15.0, step: float = 0.25, spread: float = 6.0, min_strength: float = 0.35
) -> Tilt:
    """Angle of the dominant near-horizontal straight line, by a gradient-constrained Hough transform.

    Edge pixels are the strongest 10% of Sobel magnitudes (and above 24, a few levels of real contrast) whose
    gradient lies within ``max_angle`` + ``spread`` degrees of vertical. Each votes, for every candidate angle
    α in [−max_angle, max_angle] (``step`` apart) within ``spread``° of its own edge angle, for the line ρ =
    y·cos α − x·sin α (ρ in 1-px bins, summed over 3 neighbouring bins for slightly soft lines). The most
    voted (α, ρ) is the line; tilt = −α, so positive means rising to the right. A line is "found" when its
    votes reach ``min_strength`` × width, i.e. it spans a good part of the frame.
    """
    gx, gy = sobel(y)
    mag = np.hypot(gx, gy)
    threshold = max(float(np.percentile(mag[::2, ::2], 90.0)), 24.0)
    limit = math.radians(max_angle + spread)
    strong = (mag > threshold) & (np.abs(gx) <= np.abs(gy) * F32(math.tan(limit)))
    rows, cols = np.nonzero(strong)
    height, width = gx.shape
    if rows.size < width * min_strength:
        return Tilt(0.0, 0.0, False)
    # the edge's own angle: the line is perpendicular to the gradient, α = atan(−gx/gy)
    pix_gx = gx[rows, cols]
    pix_gy = gy[rows, cols]
    edge_angle = np.degrees(np.arctan(-pix_gx / np.where(pix_gy == 0, F32(1e-6), pix_gy))).astype(F32)
    angles = np.arange(-max_angle, max_angle + step / 2, step, dtype=F32)
    rad = np.radians(angles)
    xs = cols.astype(F32)
    ys = rows.astype(F32)
    rho = ys[:, None] * np.cos(rad)[None, :] - xs[:, None] * np.sin(rad)[None, :]
    offset = math.ceil(width * math.sin(math.radians(max_angle))) + 2
    n_rho = height + 2 * offset + 2
    rho_bin = np.rint(rho).astype(np.int64) + offset
    consistent = np.abs(edge_angle[:, None] - angles[None, :]) <= spread
    angle_idx = np.broadcast_to(np.arange(angles.size, dtype=np.int64)[None, :], rho_bin.shape)
    flat = (angle_idx * n_rho + rho_bin)[consistent]
    acc = np.bincount(flat, minlength=angles.size * n_rho).reshape(angles.size, n_rho).astype(F32)
    acc = acc[:, :-2] + acc[:, 1:-1] + acc[:, 2:]
    best = int(np.argmax(acc))
    a_idx, _ = np.unravel_index(best, acc.shape)
    votes = float(acc.flat[best])
    strength = votes / (2.0 * width)  # a crisp Sobel edge is about two pixels thick
    found = strength >= min_strength
    degrees = -float(angles[a_idx]) if found else 0.0
    return Tilt(degrees=degrees + 0.0, line_strength=strength, found=found)


# ---------------------------------------------------------------------------------------- thirds placement


@dataclass(frozen=True)
class Placement:
    center: tuple[float, float]  # salient centre, fractions of width and height
    thirds_distance: float  # distance to the nearest thirds intersection, as a fraction of the diagonal
    confidence: float  # 0 (no distinct subject) … 1 (one clear subject)


def thirds_distance(cx: float, cy: float, width: float, height: float) -> float:
    """d = min over the four points (w/3 or 2w/3, h/3 or 2h/3) of the Euclidean distance / diagonal.

    0 on a power point, 1/6 ≈ 0.17 at the centre, about 0.28 in a corner.
    """
    px = cx * width
    py = cy * height
    best = min(math.hypot(px - tx * width, py - ty * height) for tx in (1 / 3, 2 / 3) for ty in (1 / 3, 2 / 3))
    return best / math.hypot(width, height)


def placement(y: Array, sal: Array | None = None) -> Placement:
    """Where the subject sits, from spectral-residual saliency (``saliency``), against the rule of thirds."""
    sal = spectral_residual(y) if sal is None else sal
    centre: SalientCenter = salient_center(sal)
    h, w = y.shape
    return Placement(
        center=(centre.x, centre.y),
        thirds_distance=thirds_distance(centre.x, centre.y, float(w), float(h)),
        confidence=centre.confidence,
    )
