"""Spectral-residual saliency (Hou & Zhang, CVPR 2007) with numpy's FFT, and the salient centre it implies.

Saliency is what lets the analyzer say where the subject is without a trained model: the log amplitude
spectrum of natural images is smooth, so what sticks out of it (the "spectral residual") marks the unexpected
parts of the picture. It is computed on a tiny (~64 px) version of the luma, which is both what the method was
designed for and what keeps it well under a millisecond.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F32 = np.float32
Array = npt.NDArray[np.float32]


def _shrink(y: Array, long_edge: int) -> Array:
    """Block-mean downscale to roughly ``long_edge`` pixels on the long side (strided sums, no pixel loop)."""
    k = max(1, min(round(max(y.shape) / long_edge), min(y.shape) // 4))  # keep at least 4 px across
    if k == 1:
        return np.asarray(y, dtype=F32)
    h, w = (y.shape[0] // k) * k, (y.shape[1] // k) * k
    rows = y[0:h:k, :w].astype(F32, copy=True)
    for i in range(1, k):
        rows += y[i:h:k, :w]
    out = rows[:, 0::k].copy()
    for i in range(1, k):
        out += rows[:, i::k]
    return np.asarray(out * F32(1.0 / (k * k)), dtype=F32)


def gaussian_blur(a: Array, sigma: float) -> Array:
    """Separable Gaussian blur with mirrored borders (a loop over the few kernel taps, not over pixels)."""
    radius = max(1, math.ceil(3.0 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1, dtype=F32) / F32(sigma)) ** 2)
    taps /= taps.sum()
    out = np.asarray(a, dtype=F32)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="symmetric")
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for i, t in enumerate(taps):
            acc += t * (padded[i : i + n] if axis == 0 else padded[:, i : i + n])
        out = acc
    return out


def spectral_residual(y: Array, long_edge: int = 64, sigma: float = 2.5) -> Array:
    """Saliency map S (values 0–1, about ``long_edge`` px on the long side) of a luma image.

    With A(f) the amplitude and P(f) the phase of the Fourier transform of the small image,
    R(f) = log A(f) − (h₃ ∗ log A)(f) (h₃: 3×3 mean filter) and S = G_σ ∗ |F⁻¹[exp(R(f) + i·P(f))]|².
    The mean is removed first (its DC term would otherwise swamp the map), and the outer ring of the map is
    cleared because the FFT's wrap-around makes the frame's borders look like edges.
    """
    small = _shrink(y, long_edge)
    small = small - small.mean(dtype=F32)
    spectrum = np.fft.fft2(small)
    amplitude = np.abs(spectrum)
    log_amp = np.log(amplitude + 1e-8)
    # the mean (DC) was removed; give it its neighbours' level so it does not skew their local average
    log_amp[0, 0] = (log_amp[0, 1] + log_amp[1, 0] + log_amp[0, -1] + log_amp[-1, 0]) / 4.0
    smooth = sum(np.roll(np.roll(log_amp, dy, axis=0), dx, axis=1) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    residual = np.exp(log_amp - smooth / 9.0) * (spectrum / np.maximum(amplitude, 1e-12))
    residual[0, 0] = 0.0
    sal = (np.abs(np.fft.ifft2(residual)) ** 2).astype(F32)
    # the FFT treats the frame as periodic, so its borders meet their opposite side: drop the outer ring
    sal[[0, -1], :] = 0.0
    sal[:, [0, -1]] = 0.0
    sal = gaussian_blur(sal, sigma)
    top = float(sal.max())
    if top <= 0 or not math.isfinite(top):
        return np.zeros_like(sal)
    return np.asarray(sal / F32(top), dtype=F32)


@dataclass(frozen=True)
class SalientCenter:
    x: float  # fraction of the width, 0 = left
    y: float  # fraction of the height, 0 = top
    confidence: float  # 0 = saliency spread evenly (no distinct subject) … 1 = one compact salient region


def salient_center(sal: Array, level: float = 0.5) -> SalientCenter:
    """Saliency-weighted centre of the most salient region, and how distinct that region is.

    Region: pixels with S ≥ ``level``·max S. Centre: Σ S·(x, y) / Σ S over that region (pixel centres).
    Distinctness k = (share of all saliency inside the region) / (share of the frame it covers); k ≈ 1 when
    saliency is spread evenly, k ≫ 1 for one compact subject. confidence = clip((k − 2) / 6, 0, 1).
    """
    h, w = sal.shape
    total = float(sal.sum(dtype=F32))
    if total <= 0:
        return SalientCenter(0.5, 0.5, 0.0)
    mask = sal >= F32(level) * sal.max()
    weights = np.where(mask, sal, F32(0.0))
    mass = float(weights.sum(dtype=F32))
    ys, xs = np.mgrid[0:h, 0:w]
    cx = float((weights * (xs + 0.5)).sum(dtype=F32)) / mass / w
    cy = float((weights * (ys + 0.5)).sum(dtype=F32)) / mass / h
    area = float(mask.mean())
    distinct = (mass / total) / max(area, 1e-6)
    confidence = min(1.0, max(0.0, (distinct - 2.0) / 6.0))
    return SalientCenter(x=cx, y=cy, confidence=confidence)
