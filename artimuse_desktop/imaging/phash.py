"""The perceptual hash the catalog stores (``Photo.phash``), bit for bit imagehash's ``phash``, without SciPy.

``imagehash.phash`` takes the 2-D DCT-II of a 32x32 grey thumbnail with ``scipy.fftpack`` and keeps the top-left
8x8 coefficients, each compared with their median. Importing SciPy for that cost every indexing process 0.3 s
before its first hash. Only 8 of the 32 frequencies are kept on each axis, so the same coefficients are two
small matrix products with a precomputed cosine table, ``C @ pixels @ C.T`` (C: 8x32, with scipy's
unnormalised scale ``2 cos(pi k (2n + 1) / 64)``), in float64 like scipy. The hex text is imagehash's
``str(hash)`` (row-major bits, 16 hex digits), so hashes made by earlier versions still compare
(``culling.bursts``); ``tests/imaging/test_phash.py`` checks equality with imagehash on decoded photos.
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

HASH_SIZE = 8
_SAMPLE = HASH_SIZE * 4  # imagehash's highfreq_factor of 4: a 32x32 thumbnail
_NOISE = 1e-12  # relative to the DC term (4 x the sum of the pixels); rounding noise is ~1e-16 of it


@functools.cache
def _cosines() -> np.ndarray:
    """The first HASH_SIZE rows of scipy's unnormalised DCT-II matrix for _SAMPLE points."""
    k = np.arange(HASH_SIZE, dtype=np.float64)[:, None]
    n = np.arange(_SAMPLE, dtype=np.float64)[None, :]
    table = 2.0 * np.cos(np.pi * k * (2.0 * n + 1.0) / (2.0 * _SAMPLE))
    table.setflags(write=False)
    return table


def phash_bits(image: Image.Image) -> np.ndarray:
    """The 8x8 boolean hash: low-frequency DCT coefficients above their median."""
    grey = image.convert("L").resize((_SAMPLE, _SAMPLE), Image.Resampling.LANCZOS)
    pixels = np.asarray(grey, dtype=np.float64)
    table = _cosines()
    low = table @ pixels @ table.T  # rows: DCT along axis 0; columns: along axis 1 (the order is immaterial)
    # Where symmetry makes a coefficient exactly zero (flat areas, symmetric icons), scipy's FFT gives exactly
    # 0.0 but the products leave rounding noise (~1e-16 of the total): snap it to 0, as scipy's would be.
    low[np.abs(low) < _NOISE * max(float(pixels.sum()) * 4.0, 1.0)] = 0.0
    return np.asarray(low > np.median(low))


def phash_hex(image: Image.Image) -> str:
    """The hash as imagehash writes it: the 64 bits row by row, as 16 hex digits."""
    return np.packbits(phash_bits(image).ravel()).tobytes().hex()
