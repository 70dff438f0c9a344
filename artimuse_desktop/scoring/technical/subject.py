"""Where the subject is, and how it is exposed and focused: faces first, then saliency.

A bright sky behind a sharp bird is not a flaw; a blown face is. So clipping, brightness and sharpness are
also measured under a subject weight map W: the detected faces when there are any (boxes grown by 15 %),
otherwise the spectral-residual saliency map where it reaches 35 % of its peak. The subject's numbers are
trusted with weight t: 1 for faces, min(1, 0.5 + saliency confidence) for saliency, 0 when neither.
Plain numpy on the analysis-size luma.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from artimuse_desktop.scoring.technical.detail import LOG_NOISE_GAIN
from artimuse_desktop.scoring.technical.exposure import HIGHLIGHT_LEVEL, SHADOW_LEVEL
from artimuse_desktop.scoring.technical.faces import Face
from artimuse_desktop.scoring.technical.filters import F32, Array, binomial3, block_mean, laplacian

#: an eye counts as shut below this eye aspect ratio (open eyes measure about 0.25–0.4 on the lid contour)
CLOSED_EAR = 0.2
#: the saliency subject: pixels whose saliency reaches this share of the peak, weighted by their saliency
SALIENT_LEVEL = 0.35
#: a face narrower than this (px at analysis size) is counted but its eyes and focus are not judged
JUDGE_FACE_PX = 28.0


@dataclass(frozen=True)
class SubjectTones:
    source: str  # "faces", "saliency" or "frame"
    confidence: float  # t: how far the subject numbers are trusted over the frame's (0–1)
    highlights_clipped: float  # share of the subject (W-weighted) at luma ≥ 250
    shadows_clipped: float  # share of the subject at luma ≤ 5
    mean_luma: float  # W-weighted mean luma, 0–255


@dataclass(frozen=True)
class FaceCheck:
    """One judged face: where it is, whether its eyes are shut, and how sharp its eyes region is."""

    box: tuple[float, float, float, float]
    eyes_closed: bool | None  # None: too small or no landmarks, not judged
    eye_ratio: float | None  # mean eye aspect ratio of both eyes
    sharpness: float | None  # 0–100, eyes band (or face box) at analysis size


@dataclass(frozen=True)
class FaceReport:
    """Faces of one photo; ``unavailable`` says why there is none when face analysis could not run."""

    faces: tuple[FaceCheck, ...] = ()
    largest_share: float = 0.0  # largest face box / frame area
    unavailable: str | None = None

    @property
    def judged(self) -> list[FaceCheck]:
        return [f for f in self.faces if f.eyes_closed is not None]

    @property
    def closed(self) -> int:
        return sum(1 for f in self.faces if f.eyes_closed)

    def soft(self, threshold: float) -> int:
        return sum(1 for f in self.faces if f.sharpness is not None and f.sharpness < threshold)


# ----------------------------------------------------------------------------------------- subject weights


def subject_weights(
    shape: tuple[int, int], faces: FaceReport | None, saliency: Array, confidence: float
) -> tuple[Array, str, float]:
    """W over the frame (sums to 1) and its source and confidence: faces, else saliency, else uniform."""
    h, w = shape
    if faces is not None and faces.faces:
        weights = np.zeros((h, w), dtype=F32)
        for face in faces.faces:
            x0, y0, x1, y1 = face.box
            gx, gy = 0.075 * (x1 - x0), 0.075 * (y1 - y0)
            top, left = max(0, int(y0 - gy)), max(0, int(x0 - gx))
            weights[top : math.ceil(y1 + gy), left : math.ceil(x1 + gx)] = 1.0
        if float(weights.sum()) > 0:
            return weights / F32(weights.sum()), "faces", 1.0
    if confidence > 0.0 and float(saliency.max()) > 0:
        sal = Image.fromarray(np.asarray(saliency, dtype=F32), mode="F").resize((w, h), Image.Resampling.BILINEAR)
        weights = np.clip(np.asarray(sal, dtype=F32), 0.0, None)
        weights[weights < F32(SALIENT_LEVEL) * weights.max()] = 0.0
        if float(weights.sum()) > 0:
            return weights / F32(weights.sum()), "saliency", min(1.0, 0.5 + float(confidence))
    return np.full((h, w), F32(1.0 / (h * w)), dtype=F32), "frame", 0.0


def subject_tones(y: Array, weights: Array, source: str, confidence: float) -> SubjectTones:
    """Clipping and mean luma of the subject: Σ W·[Y ≥ 250], Σ W·[Y ≤ 5], Σ W·Y (W sums to 1)."""
    return SubjectTones(
        source=source,
        confidence=confidence,
        highlights_clipped=float((weights * (y >= HIGHLIGHT_LEVEL - 0.5)).sum(dtype=np.float64)),
        shadows_clipped=float((weights * (y < SHADOW_LEVEL + 0.5)).sum(dtype=np.float64)),
        mean_luma=float((weights * y).sum(dtype=np.float64)),
    )


# -------------------------------------------------------------------------------------------- face focus


def _ramp(x: float, lo: float, hi: float) -> float:
    return min(1.0, max(0.0, (x - lo) / (hi - lo)))


def _log_ramp(x: float, lo: float, hi: float) -> float:
    return _ramp(math.log10(max(x, 1e-6)), math.log10(lo), math.log10(hi))


def region_sharpness(y: Array, box: tuple[float, float, float, float], noise: float) -> float:
    """0–100 sharpness of one box, by the same LoG energy and fine/coarse ratio as the frame (``detail``):
    100·√(logramp(E[L²] − F, 2, 120)·logramp(ρ, 0.14, 0.45)), the energy ramp set lower than the frame's
    because skin and eyes carry less fine detail than foliage or brick."""
    x0, y0, x1, y1 = (round(v) for v in box)
    x0, y0 = max(0, x0 - 2), max(0, y0 - 2)
    x1, y1 = min(y.shape[1], x1 + 2), min(y.shape[0], y1 + 2)
    if x1 - x0 < 10 or y1 - y0 < 10:
        return float("nan")
    patch = y[y0:y1, x0:x1]
    lap = laplacian(binomial3(patch))
    fine = float((lap * lap).mean(dtype=F32))
    coarse_lap = laplacian(binomial3(block_mean(patch, 2)))
    coarse = float((coarse_lap * coarse_lap).mean(dtype=F32)) if coarse_lap.size else 0.0
    floor = LOG_NOISE_GAIN * noise * noise
    energy = max(0.0, fine - floor)
    ratio = energy / max(coarse - floor / 4.0, 1e-3)
    return 100.0 * math.sqrt(_log_ramp(energy, 2.0, 120.0) * _log_ramp(ratio, 0.14, 0.45))


def _eyes_band(face: Face) -> tuple[float, float, float, float]:
    """The box around both lid contours, grown to include brows and lashes: where focus should be."""
    points = np.concatenate(face.lids, axis=0)
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    pad_x, pad_y = 0.15 * (x1 - x0), 0.6 * (y1 - y0) + 2
    return float(x0 - pad_x), float(y0 - pad_y), float(x1 + pad_x), float(y1 + pad_y)


def check_faces(y: Array, faces: list[Face], noise: float) -> FaceReport:
    """Eye state and eyes-region sharpness of each face large enough to judge."""
    frame = float(y.shape[0] * y.shape[1])
    checks: list[FaceCheck] = []
    for face in faces:
        width = face.box[2] - face.box[0]
        if face.eye_ratios is None or width < JUDGE_FACE_PX or not face.lids:
            checks.append(FaceCheck(face.box, None, None, None))
            continue
        ratio = (face.eye_ratios[0] + face.eye_ratios[1]) / 2.0
        sharp = region_sharpness(y, _eyes_band(face), noise)
        checks.append(FaceCheck(face.box, ratio < CLOSED_EAR, ratio, None if math.isnan(sharp) else sharp))
    share = max((f.area for f in faces), default=0.0) / frame
    return FaceReport(tuple(checks), largest_share=share)
