"""Pure technical measurements on a small float32 RGB array (values 0–1, about 512 px on the long edge).

Every function here is a plain numpy computation, documented with its formula, so the numbers the app shows
can be checked by hand. Nothing here loads files or knows about scores; ``notes`` turns these numbers into
scores and words. All work is done in float32 on arrays, never in Python loops over pixels.

Units: luminance-based values use 8-bit levels (0–255) because photographers know that scale; values that
depend on resolution (sharpness, noise) are only comparable at the analysis size, which is why every photo is
measured at the same ~512 px long edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from artimuse_desktop.scoring.technical.saliency import SalientCenter, salient_center, spectral_residual

F32 = np.float32
Array = npt.NDArray[np.float32]

#: Rec. 709 luma weights, applied to the gamma-encoded (sRGB) values as cameras and editors do.
LUMA_WEIGHTS = np.array([0.2126, 0.7152, 0.0722], dtype=F32)

#: Sum of squared weights of the 5×5 kernel "4-neighbour Laplacian after a 3×3 binomial blur" (= 13/32): white
#: noise of standard deviation s adds LOG_NOISE_GAIN · s² to that filter's variance. (The bare Laplacian's
#: gain is 20, which is why it mistakes grain for detail; the binomial pre-blur cuts it 50-fold and keeps
#: edges.)
LOG_NOISE_GAIN = 13.0 / 32.0

HIGHLIGHT_LEVEL = 250  # luma at or above this (of 255) counts as clipped white
SHADOW_LEVEL = 5  # luma at or below this counts as crushed black


# --------------------------------------------------------------------------------------------------- helpers


def luma(rgb: Array) -> Array:
    """Y' = 0.2126 R' + 0.7152 G' + 0.0722 B' (Rec. 709 on gamma-encoded values), scaled to 0–255."""
    return np.asarray(rgb @ (LUMA_WEIGHTS * F32(255.0)), dtype=F32)


def block_mean(a: Array, k: int) -> Array:
    """Average over non-overlapping k×k blocks (the edge remainder is dropped): a cheap, alias-free downscale.

    Summed as k strided slices per axis (a loop over k, not over pixels), which is several times faster than a
    reshape-and-mean over non-contiguous axes.
    """
    if k <= 1:
        return np.asarray(a, dtype=F32)
    h, w = (a.shape[0] // k) * k, (a.shape[1] // k) * k
    cropped = a[:h, :w]
    rows = cropped[0::k].astype(F32, copy=True)
    for i in range(1, k):
        rows += cropped[i::k]
    out = rows[:, 0::k].copy()
    for i in range(1, k):
        out += rows[:, i::k]
    out *= F32(1.0 / (k * k))
    return out


def laplacian(y: Array) -> Array:
    """4-neighbour Laplacian L = y[i-1,j] + y[i+1,j] + y[i,j-1] + y[i,j+1] − 4·y[i,j], interior pixels."""
    return y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:] - F32(4.0) * y[1:-1, 1:-1]


def binomial3(y: Array) -> Array:
    """3×3 binomial blur [1,2,1]ᵀ⊗[1,2,1]/16 on the interior: a tiny Gaussian (σ ≈ 0.7 px)."""
    a = y[:, :-2] + F32(2.0) * y[:, 1:-1] + y[:, 2:]
    return (a[:-2] + F32(2.0) * a[1:-1] + a[2:]) * F32(1.0 / 16.0)


def sobel(y: Array) -> tuple[Array, Array]:
    """Sobel gradients (gx, gy) on the interior: [1,2,1]ᵀ⊗[−1,0,1] and its transpose (gain 8 on a ramp)."""
    sx = y[:, 2:] - y[:, :-2]
    gx = sx[:-2] + F32(2.0) * sx[1:-1] + sx[2:]
    sy = y[2:] - y[:-2]
    gy = sy[:, :-2] + F32(2.0) * sy[:, 1:-1] + sy[:, 2:]
    return gx, gy


def luma_histogram(y: Array) -> npt.NDArray[np.int64]:
    """256-bin histogram of luma in whole 8-bit levels; one pass serves clipping, mean and percentiles."""
    levels = np.clip(y + F32(0.5), 0, 255).astype(np.uint8)
    return np.bincount(levels.ravel(), minlength=256)


def _percentile_from_hist(cdf: npt.NDArray[np.float64], q: float) -> float:
    """Smallest level whose cumulative fraction reaches q (0–1)."""
    return float(np.searchsorted(cdf, q, side="left"))


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


# ---------------------------------------------------------------------------------------- exposure, contrast


@dataclass(frozen=True)
class Tones:
    highlights_clipped: float  # fraction of pixels with luma ≥ 250
    shadows_clipped: float  # fraction of pixels with luma ≤ 5
    mean_luma: float  # mean luma, 0–255
    rms_contrast: float  # standard deviation of luma, 0–255
    tonal_range: float  # 99th minus 1st percentile of luma, 0–255
    p1: float
    p99: float


def tones(y: Array) -> Tones:
    """Exposure and contrast from one luma histogram.

    highlights = #(Y ≥ 250) / N and shadows = #(Y ≤ 5) / N (luma 0–255); mean = ΣY / N; RMS contrast = std(Y);
    tonal range = P99(Y) − P1(Y), a dynamic-range measure that ignores the few most extreme pixels.
    """
    hist = luma_histogram(y)
    n = float(hist.sum())
    levels = np.arange(256, dtype=np.float64)
    mean = float((hist * levels).sum() / n)
    var = float((hist * (levels - mean) ** 2).sum() / n)
    cdf = np.cumsum(hist) / n
    p1 = _percentile_from_hist(cdf, 0.01)
    p99 = _percentile_from_hist(cdf, 0.99)
    return Tones(
        highlights_clipped=float(hist[HIGHLIGHT_LEVEL:].sum() / n),
        shadows_clipped=float(hist[: SHADOW_LEVEL + 1].sum() / n),
        mean_luma=mean,
        rms_contrast=math.sqrt(var),
        tonal_range=p99 - p1,
        p1=p1,
        p99=p99,
    )


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


# ----------------------------------------------------------------------------------------------------- colour


def colourfulness(rgb: Array) -> float:
    """Hasler & Süsstrunk (2003) colourfulness on 0–255 values.

    rg = R − G, yb = (R + G)/2 − B; M = √(σ_rg² + σ_yb²) + 0.3·√(μ_rg² + μ_yb²). About 0 for a grey image,
    15 slightly, 33 moderately, 45 averagely, 59 quite, 82 highly and 109+ extremely colourful.
    """
    r = rgb[..., 0] * F32(255.0)
    g = rgb[..., 1] * F32(255.0)
    b = rgb[..., 2] * F32(255.0)
    rg = r - g
    yb = F32(0.5) * (r + g) - b
    std = math.sqrt(float(rg.var(dtype=F32)) + float(yb.var(dtype=F32)))
    mean = math.sqrt(float(rg.mean(dtype=F32)) ** 2 + float(yb.mean(dtype=F32)) ** 2)
    return std + 0.3 * mean


def srgb_to_lab(rgb: Array) -> Array:
    """sRGB (0–1) → CIELAB (D65): linearise, apply the sRGB→XYZ matrix, then L*a*b* via the cube root."""
    lin = np.where(rgb <= F32(0.04045), rgb / F32(12.92), ((rgb + F32(0.055)) / F32(1.055)) ** F32(2.4))
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], dtype=F32) / np.array(
        [[0.95047], [1.0], [1.08883]], dtype=F32
    )
    xyz = lin.astype(F32) @ m.T
    delta = F32(6.0 / 29.0)
    f = np.where(xyz > delta**3, np.cbrt(xyz), xyz / (F32(3.0) * delta * delta) + F32(4.0 / 29.0))
    lab = np.empty_like(f)
    lab[..., 0] = F32(116.0) * f[..., 1] - F32(16.0)
    lab[..., 1] = F32(500.0) * (f[..., 0] - f[..., 1])
    lab[..., 2] = F32(200.0) * (f[..., 1] - f[..., 2])
    return np.asarray(lab, dtype=F32)


@dataclass(frozen=True)
class ColourCast:
    strength: float  # |(ā, b̄)| in CIELAB units (≈ ΔE)
    hue_deg: float  # hue angle of the cast in the a*b* plane, 0 = +a* (red), 90 = +b* (yellow)
    name: str  # plain name of the cast's hue


_CAST_NAMES = (
    (15.0, "red"),
    (75.0, "warm orange"),
    (115.0, "yellow"),
    (195.0, "green"),
    (240.0, "cyan"),
    (300.0, "blue"),
    (345.0, "magenta"),
    (360.0, "red"),
)


def colour_cast(rgb: Array, chroma_scale: float = 15.0) -> ColourCast:
    """Tint of the near-neutral pixels, a grey-pixel white-balance check.

    In CIELAB (on a 4× block-mean image, colour being a global property), each pixel with 20 ≤ L* ≤ 95 gets
    weight w = exp(−(C*/``chroma_scale``)²), C* = √(a*² + b*²), so greys, whites and pale tones dominate and a
    genuinely colourful subject (green foliage, a red car) does not. cast = |Σw·(a*, b*) / Σw|. A correct
    white balance leaves near-neutral surfaces near a* = b* = 0; a cast shifts all of them the same way.
    """
    small = block_mean(rgb, 4) if min(rgb.shape[:2]) >= 32 else rgb
    lab = srgb_to_lab(small)
    lum, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.sqrt(a * a + b * b)
    w = np.exp(-((chroma / F32(chroma_scale)) ** 2)) * ((lum >= 20) & (lum <= 95))
    total = float(w.sum(dtype=F32))
    if total < 1e-3:
        return ColourCast(0.0, 0.0, "none")
    ma = float((w * a).sum(dtype=F32)) / total
    mb = float((w * b).sum(dtype=F32)) / total
    hue = math.degrees(math.atan2(mb, ma)) % 360.0
    name = next(label for limit, label in _CAST_NAMES if hue < limit)
    return ColourCast(strength=math.hypot(ma, mb), hue_deg=hue, name=name)


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


def placement(y: Array) -> Placement:
    """Where the subject sits, from spectral-residual saliency (``saliency``), against the rule of thirds."""
    sal = spectral_residual(y)
    centre: SalientCenter = salient_center(sal)
    h, w = y.shape
    return Placement(
        center=(centre.x, centre.y),
        thirds_distance=thirds_distance(centre.x, centre.y, float(w), float(h)),
        confidence=centre.confidence,
    )


# ------------------------------------------------------------------------------------------------- analysis


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
