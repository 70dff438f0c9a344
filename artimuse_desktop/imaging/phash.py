"""The perceptual hash the catalog stores (``Photo.phash``), bit for bit imagehash's ``phash``, without SciPy
or numpy.

``imagehash.phash`` takes the 2-D DCT-II of a 32x32 grey thumbnail with ``scipy.fftpack`` and keeps the top-left
8x8 coefficients, each compared with their median. Importing SciPy for that cost every indexing process 0.3 s
before its first hash, and numpy still ~0.1 s (a third of what adding one photo to a big library costs in a
fresh process). Only 8 of the 32 frequencies are kept on each axis, so the same coefficients are two small
matrix products with a precomputed cosine table, ``C @ pixels @ C.T`` (C: 8x32, with scipy's unnormalised scale
``2 cos(pi k (2n + 1) / 64)``): about 10,000 multiply-adds, done here in plain Python (~1 ms, next to the
tens of ms the decode of a photo costs) in float64 like scipy. The
hex text is imagehash's ``str(hash)`` (row-major bits, 16 hex digits), so hashes made by earlier versions
still compare (``culling.bursts``); ``tests/imaging/test_phash.py`` checks equality with imagehash on decoded
photos.
"""

from __future__ import annotations

import functools
import math
from operator import mul

from PIL import Image

HASH_SIZE = 8
_SAMPLE = HASH_SIZE * 4  # imagehash's highfreq_factor of 4: a 32x32 thumbnail
_NOISE = 1e-12  # relative to the DC term (4 x the sum of the pixels); rounding noise is ~1e-16 of it


@functools.cache
def _cosines() -> tuple[tuple[float, ...], ...]:
    """The first HASH_SIZE rows of scipy's unnormalised DCT-II matrix for _SAMPLE points."""
    return tuple(
        tuple(2.0 * math.cos(math.pi * k * (2.0 * n + 1.0) / (2.0 * _SAMPLE)) for n in range(_SAMPLE))
        for k in range(HASH_SIZE)
    )


def phash_bits(image: Image.Image) -> list[list[bool]]:
    """The 8x8 hash, row by row: low-frequency DCT coefficients above their median."""
    grey = image.convert("L").resize((_SAMPLE, _SAMPLE), Image.Resampling.LANCZOS)
    data = grey.tobytes()
    columns = [data[column::_SAMPLE] for column in range(_SAMPLE)]  # pixel values, column by column
    table = _cosines()
    # Along axis 0 (down each column), then along axis 1: low[k][l] = sum_n,m C[k][n] p[n][m] C[l][m].
    down = [[sum(map(mul, row, column)) for column in columns] for row in table]
    low = [[sum(map(mul, partial, row)) for row in table] for partial in down]
    # Where symmetry makes a coefficient exactly zero (flat areas, symmetric icons), scipy's FFT gives exactly
    # 0.0 but the products leave rounding noise (~1e-16 of the total): snap it to 0, as scipy's would be.
    floor = _NOISE * max(float(sum(data)) * 4.0, 1.0)
    values = [0.0 if abs(value) < floor else value for line in low for value in line]
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = (ordered[middle - 1] + ordered[middle]) / 2.0  # numpy's median of an even count
    return [[value > median for value in values[start : start + HASH_SIZE]] for start in range(0, 64, HASH_SIZE)]


def phash_hex(image: Image.Image) -> str:
    """The hash as imagehash writes it: the 64 bits row by row, as 16 hex digits."""
    bits = "".join("1" if bit else "0" for line in phash_bits(image) for bit in line)
    return f"{int(bits, 2):016x}"
