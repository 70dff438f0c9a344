"""Exposure and contrast from one 256-bin luma histogram: clipping, mean, RMS contrast, tonal range."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from artimuse_desktop.scoring.technical.filters import F32, Array

HIGHLIGHT_LEVEL = 250  # luma at or above this (of 255) counts as clipped white
SHADOW_LEVEL = 5  # luma at or below this counts as crushed black


def luma_histogram(y: Array) -> npt.NDArray[np.int64]:
    """256-bin histogram of luma in whole 8-bit levels; one pass serves clipping, mean and percentiles."""
    levels = np.clip(y + F32(0.5), 0, 255).astype(np.uint8)
    return np.bincount(levels.ravel(), minlength=256)


def _percentile_from_hist(cdf: npt.NDArray[np.float64], q: float) -> float:
    """Smallest level whose cumulative fraction reaches q (0–1)."""
    return float(np.searchsorted(cdf, q, side="left"))


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
