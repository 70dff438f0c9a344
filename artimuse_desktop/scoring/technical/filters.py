"""The small array filters every measure is built from: luma, block means, Laplacian, binomial blur, Sobel.

Each works on the interior of a float32 array with shifted slices (no per-pixel Python loops, no SciPy), and
states its kernel, so a measure's formula can be read off its filters.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F32 = np.float32
Array = npt.NDArray[np.float32]

#: Rec. 709 luma weights, applied to the gamma-encoded (sRGB) values as cameras and editors do.
LUMA_WEIGHTS = np.array([0.2126, 0.7152, 0.0722], dtype=F32)


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
