"""Colour: Hasler–Süsstrunk colourfulness and the white-balance cast of near-neutral pixels in CIELAB."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from artimuse_desktop.scoring.technical.filters import F32, Array, block_mean


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
