"""Fine detail: sharpness (LoG variance and ratio), motion blur (directional anisotropy) and noise.

They belong together because grain looks like detail: the noise estimate is subtracted from both detail
measures, with each filter's white-noise gain. Values are in 8-bit levels at the analysis size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from artimuse_desktop.scoring.technical.filters import F32, Array, binomial3, block_mean, laplacian

#: Sum of squared weights of the 5×5 kernel "4-neighbour Laplacian after a 3×3 binomial blur" (= 13/32): white
#: noise of standard deviation s adds LOG_NOISE_GAIN · s² to that filter's variance. (The bare Laplacian's
#: gain is 20, which is why it mistakes grain for detail; the binomial pre-blur cuts it 50-fold and keeps
#: edges.)
LOG_NOISE_GAIN = 13.0 / 32.0


# ------------------------------------------------------------------------------------------------- sharpness


@dataclass(frozen=True)
class Sharpness:
    overall: float  # variance of the LoG over the whole frame, noise share removed (8-bit levels²)
    region: float  # the same over the sharpest region (a quarter of the long edge square)
    overall_ratio: float  # fine-to-coarse LoG energy ratio over the frame (contrast-free; blur lowers it)
    region_ratio: float  # the same in the sharpest region
    region_center: tuple[float, float]  # where that region is, as fractions of width and height


def _log_energy(y: Array) -> Array:
    """Squared response of the discrete LoG Δ(B ∗ y), on the interior."""
    lap = laplacian(binomial3(y))
    return lap * lap


def sharpness(y: Array, noise_sigma: float = 0.0, grid: int = 8) -> Sharpness:
    """Variance of a Laplacian-of-Gaussian over the frame and its sharpest region, and a contrast-free ratio.

    L = Δ(B ∗ Y): the 4-neighbour Laplacian of the luma (0–255) after a 3×3 binomial blur B, a discrete LoG
    (the classic variance-of-Laplacian focus measure of Pech-Pacheco et al. 2000, made robust to grain).

    overall = max(0, E[L²] − F), F being the noise share: (13/32)·σ² for white noise of the estimated σ
    (13/32 is the filter's white-noise gain), raised to the calmest tenth of 32-px tiles' E[L²] (at most 3×
    the model) when resizing and JPEG have clumped the grain.

    region = the same over the best window of 2×2 tiles (tiles are 1/``grid`` of the long edge): a portrait
    with a soft background keeps a high region value while its overall value drops.

    The variance grows with contrast, so a dim but sharp photo reads low; the ratio corrects for that:
    ratio = (E[L²] − F) / (E[L_c²] − F/4), L_c being the same LoG on the 2×2 block-mean image: how much
    detail survives at the finest scale compared with the next coarser one (about 0.5–2 when sharp, ~0.12
    after a 2-px Gaussian blur), over the frame and over the same region.
    """
    fine = _log_energy(y)
    # Noise share of E[L²]: the white-noise model, or, when grain has been smoothed into clumps by resizing
    # and JPEG (which the model underrates), what the calmest tenth of the frame shows, up to 3× the model.
    model = LOG_NOISE_GAIN * noise_sigma * noise_sigma
    calm = float(np.percentile(block_mean(fine, 32), 10.0)) if min(fine.shape) >= 64 else 0.0
    floor = max(model, min(calm, 3.0 * model))
    coarse = _log_energy(block_mean(y, 2))
    # tiles of 1/grid of the long edge, but never larger than the short side allows (panoramas, slivers)
    tile = max(2, min(round(max(fine.shape) / grid), 2 * (min(coarse.shape) // 2)))
    fine_t = block_mean(fine, tile)
    coarse_t = block_mean(coarse, max(1, tile // 2))
    rows = min(fine_t.shape[0], coarse_t.shape[0])
    cols = min(fine_t.shape[1], coarse_t.shape[1])
    if rows < 1 or cols < 1:  # too small to split: the region is the frame
        fine_t = np.full((1, 1), fine.mean(dtype=F32), dtype=F32)
        coarse_t = np.full((1, 1), coarse.mean(dtype=F32), dtype=F32)
        rows = cols = 1
    fine_t, coarse_t = fine_t[:rows, :cols], coarse_t[:rows, :cols]
    span = 1
    if rows >= 2 and cols >= 2:
        fine_t = (fine_t[:-1, :-1] + fine_t[1:, :-1] + fine_t[:-1, 1:] + fine_t[1:, 1:]) * F32(0.25)
        coarse_t = (coarse_t[:-1, :-1] + coarse_t[1:, :-1] + coarse_t[:-1, 1:] + coarse_t[1:, 1:]) * F32(0.25)
        span = 2
    index = np.unravel_index(int(np.argmax(fine_t)), fine_t.shape)
    overall = max(0.0, float(fine.mean(dtype=F32)) - floor)
    region = max(0.0, float(fine_t[index]) - floor)
    coarse_floor = floor / 4.0  # a 2×2 block mean halves the noise σ
    overall_ratio = overall / max(float(coarse.mean(dtype=F32)) - coarse_floor, 1e-3)
    region_ratio = region / max(float(coarse_t[index]) - coarse_floor, 1e-3)
    cy = (index[0] + span / 2) * tile / fine.shape[0]
    cx = (index[1] + span / 2) * tile / fine.shape[1]
    return Sharpness(
        overall=overall,
        region=region,
        overall_ratio=overall_ratio,
        region_ratio=region_ratio,
        region_center=(min(cx, 1.0), min(cy, 1.0)),
    )


# ----------------------------------------------------------------------------------------------- motion blur


@dataclass(frozen=True)
class MotionBlur:
    anisotropy: float  # 0 (detail equal in all directions) … 1 (fine detail gone along one direction only)
    direction_deg: float  # direction of the smear, degrees counter-clockwise from horizontal, 0–180
    weakest_ratio: float  # fine/coarse detail ratio in the weakest direction (low when blurred in any way)


def _second_differences(y: Array) -> tuple[Array, Array, Array, Array]:
    """Second differences along 0°, 45°, 90° and 135° in image coordinates (x right, y down), interior."""
    centre = F32(2.0) * y[1:-1, 1:-1]
    return (
        y[1:-1, 2:] - centre + y[1:-1, :-2],
        y[2:, 2:] - centre + y[:-2, :-2],
        y[2:, 1:-1] - centre + y[:-2, 1:-1],
        y[2:, :-2] - centre + y[:-2, 2:],
    )


def _directional_gains() -> tuple[float, ...]:
    """White-noise gain (sum of squared weights) of each directional second difference, binomial first."""
    impulse = np.zeros((9, 9), dtype=F32)
    impulse[4, 4] = 1.0
    return tuple(float((d * d).sum()) for d in _second_differences(binomial3(impulse)))


_DIRECTIONAL_GAINS = _directional_gains()


def motion_blur(y: Array, noise: float = 0.0) -> MotionBlur:
    """Directional anisotropy of fine detail: a hint of camera shake or subject motion.

    For each direction θ ∈ {0°, 45°, 90°, 135°}, D_θ is the second difference along θ of the binomially
    blurred luma, and r_θ = (E[D_θ²] − g_θ·σ²) / (E[D'_θ²] − g_θ·σ²/4), D' being the same on the 2×2
    block-mean image and g_θ the white-noise gain: how much of the detail at the finest scale survives, per
    direction. The scene's own structure affects both scales alike; a linear smear wipes out the finest detail
    along its direction only. anisotropy = (max r − min r) / (max r + min r), about 0.0–0.15 for sharp photos
    and 0.3+ for a smear of a few pixels at 512 px. Direction: the minimum of r(θ) ≈ a + b·cos 2θ + c·sin 2θ
    fitted to the four samples, reported counter-clockwise from horizontal.
    """
    fine = _second_differences(binomial3(y))
    coarse = _second_differences(binomial3(block_mean(y, 2)))
    if min(coarse[0].shape) < 4:
        return MotionBlur(0.0, 0.0, 0.0)
    var = noise * noise
    ratios = []
    for f, c, gain in zip(fine, coarse, _DIRECTIONAL_GAINS, strict=True):
        ef = max(float((f * f).mean(dtype=F32)) - gain * var, 0.0)
        ec = max(float((c * c).mean(dtype=F32)) - gain * var / 4.0, 1e-6)
        ratios.append(ef / ec)
    r = np.array(ratios)
    top, low = float(r.max()), float(r.min())
    if top <= 0.0:
        return MotionBlur(0.0, 0.0, 0.0)
    anisotropy = (top - low) / (top + low)
    b = (r[0] - r[2]) / 2.0
    c = (r[1] - r[3]) / 2.0
    weakest_image = (0.5 * math.degrees(math.atan2(c, b)) + 90.0) % 180.0  # y down
    direction = (-weakest_image) % 180.0  # counter-clockwise with y up, as a photographer reads it
    return MotionBlur(anisotropy=anisotropy, direction_deg=direction, weakest_ratio=low)


# ----------------------------------------------------------------------------------------------------- noise


def noise_sigma(y: Array, tile: int = 32, percentile: float = 25.0) -> float:
    """Immerkær's fast noise estimate (1996), taken over the calmer parts of the frame.

    r = y ∗ M with M = [[1,−2,1],[−2,4,−2],[1,−2,1]] (a Laplacian difference that cancels flat areas, ramps
    and most edges' first order); for white Gaussian noise σ = √(π/2) · mean|r| / 6. Edges and texture inflate
    mean|r|, so it is computed per ``tile``×``tile`` block and the ``percentile``-th block is kept (the calm
    areas, where noise shows). Blocks that are near clipping (mean luma < 12 or > 243) are skipped because
    clipping hides noise. Result in 8-bit levels at the analysis size.
    """
    a = y[:, :-2] - F32(2.0) * y[:, 1:-1] + y[:, 2:]
    r = np.abs(a[:-2] - F32(2.0) * a[1:-1] + a[2:])
    if min(r.shape) < tile:
        tile = max(2, min(r.shape))
    per_tile = block_mean(r, tile) * F32(math.sqrt(math.pi / 2.0) / 6.0)
    means = block_mean(y[1:-1, 1:-1], tile)[: per_tile.shape[0], : per_tile.shape[1]]
    usable = per_tile[(means > 12) & (means < 243)]
    if usable.size < 4:
        usable = per_tile.ravel()
    return float(np.percentile(usable, percentile))
