"""Turn raw measurements into the app's vocabulary: Measures with units, 0–100 scores, plain-language notes.

The mapping from numbers to scores lives here, in one place, with every threshold named, so it can be read,
argued with and tuned without touching the measurements. Each sub-score is 0–100; the "Technical Execution"
score is their weighted geometric mean, so one serious flaw (a blurred frame, blown highlights) pulls the
whole score down instead of being averaged away by otherwise fine numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from artimuse_desktop.scoring.technical import people
from artimuse_desktop.scoring.technical.measures import Analysis
from artimuse_desktop.scoring.types import AttributeResult, Measure, ScoreResult

TECHNICAL = "Technical Execution"
COMPOSITION = "Composition & Design"

#: weights of the sub-scores in Technical Execution's weighted geometric mean (they sum to 1)
WEIGHTS: dict[str, float] = {
    "sharpness": 0.38,
    "exposure": 0.25,
    "contrast": 0.08,
    "noise": 0.12,
    "motion": 0.12,
    "colour": 0.05,
    "eyes": 0.15,  # only when a face was judged
    "resolution": 0.08,  # only when the original's size is known
}
#: the raw overall (0–100) is stretched linearly so that RAW_LOW maps to 0 and RAW_HIGH to 100
RAW_LOW, RAW_HIGH = 30.0, 95.0
#: the overall score: mostly technical quality, a little of the (narrow) composition measure
OVERALL_TECHNICAL_WEIGHT = 0.85


def _ramp(x: float, lo: float, hi: float) -> float:
    """0 at or below ``lo``, 1 at or above ``hi``, linear between."""
    if hi == lo:
        return 1.0 if x >= hi else 0.0
    return min(1.0, max(0.0, (x - lo) / (hi - lo)))


def _log_ramp(x: float, lo: float, hi: float) -> float:
    """``_ramp`` on a log10 scale: sharpness spans decades, so each doubling should count about the same."""
    return _ramp(math.log10(max(x, 1e-6)), math.log10(lo), math.log10(hi))


@dataclass(frozen=True)
class SubScores:
    """The 0–100 pieces the attribute scores are built from (kept for notes, tests and the docs)."""

    sharp_region: float
    sharp_overall: float
    sharpness: float
    motion: float
    exposure: float
    contrast: float
    noise: float
    colour: float
    placement: float
    tilt_penalty: float
    subject_sharp: float | None = None  # eyes band of the largest judged face
    eyes: float | None = None
    resolution: float | None = None


def sub_scores(a: Analysis) -> SubScores:
    """Map each measurement onto 0–100 with the thresholds documented in docs/technical-analyzer.md."""
    sh = a.sharpness
    # Each sharpness is the geometric mean of two ramps: the LoG variance (a region below ~3 is blurred, 200+
    # crisp; the whole frame ~1 and 100+), which also grows with contrast, and the contrast-free fine/coarse
    # ratio (~0.14 blurred, 0.45+ crisp). Calibrated on real photographs and Gaussian-blurred copies of them.
    sharp_region = 100.0 * math.sqrt(_log_ramp(sh.region, 3.0, 200.0) * _log_ramp(sh.region_ratio, 0.14, 0.45))
    sharp_overall = 100.0 * math.sqrt(_log_ramp(sh.overall, 1.0, 100.0) * _log_ramp(sh.overall_ratio, 0.14, 0.45))
    # a soft background behind a sharp subject is a choice: the whole frame counts less than its best part
    # where the subject is a face, its eyes are what must be sharp: a focus miss on them is not saved by a crisp
    # background (the sharpest region would be the background)
    subject_sharp = people.subject_sharpness(a.faces)
    subject = sharp_region if subject_sharp is None else subject_sharp
    sharpness = 0.7 * subject + 0.3 * max(sharp_overall, 0.6 * subject)

    # sharp photos show 0–0.15 directional anisotropy, a smear of a few pixels 0.3 and more
    motion = 100.0 - 100.0 * _ramp(a.motion.anisotropy, 0.2, 0.45)

    t = a.tones
    white, black, mean = t.highlights_clipped, t.shadows_clipped, t.mean_luma
    background_pen = 0.0
    st = a.subject
    if st is not None and st.confidence > 0.0:
        # judged where the subject is (faces, else saliency), trusted with weight t; a blown background still
        # costs a little, and more when most of the frame is gone
        k = st.confidence
        background_pen = 15.0 * _ramp(white, 0.2, 0.6)
        white = k * st.highlights_clipped + (1.0 - k) * white
        black = k * st.shadows_clipped + (1.0 - k) * black
        mean = k * st.mean_luma + (1.0 - k) * mean
    highlight_pen = 70.0 * _ramp(white, 0.005, 0.12) + 25.0 * _ramp(white, 0.12, 0.35) + background_pen
    shadow_pen = 40.0 * _ramp(black, 0.02, 0.30) + 20.0 * _ramp(black, 0.30, 0.6)
    brightness_pen = 50.0 * _ramp(abs(mean - 120.0), 45.0, 105.0)
    exposure = max(0.0, 100.0 - highlight_pen - shadow_pen - brightness_pen)

    contrast = 30.0 + 70.0 * _ramp(t.tonal_range, 60.0, 170.0)
    noise = 100.0 - 70.0 * _ramp(a.noise, 2.5, 12.0)  # never below 30: fine texture can pass for noise
    colour = 100.0 - 40.0 * _ramp(a.cast.strength, 8.0, 25.0)

    p = a.placement
    on_thirds = 1.0 - _ramp(p.thirds_distance, 0.04, 0.25)  # 1 on a power point, ~0.4 centred, 0 in a corner
    q = 0.5 + (on_thirds - 0.5) * p.confidence  # no distinct subject: neither credit nor blame
    placement = 40.0 + 50.0 * q

    tilt_penalty = 0.0
    if a.tilt.found:
        tilt_penalty = 25.0 * _ramp(abs(a.tilt.degrees), 0.5, 3.0)
        if abs(a.tilt.degrees) > 10.0:  # steep lines are more often perspective or a deliberate Dutch angle
            tilt_penalty *= 0.5
    return SubScores(
        sharp_region=sharp_region,
        sharp_overall=sharp_overall,
        sharpness=sharpness,
        motion=motion,
        exposure=exposure,
        contrast=contrast,
        noise=noise,
        colour=colour,
        placement=placement,
        tilt_penalty=tilt_penalty,
        subject_sharp=subject_sharp,
        eyes=people.eyes_score(a.faces),
        resolution=people.resolution_score(a),
    )


def technical_score(s: SubScores) -> float:
    """Weighted geometric mean exp(Σ wᵢ·ln max(sᵢ, 1) / Σ wᵢ) over the sub-scores measured, 0–100."""
    values: dict[str, float | None] = {
        "sharpness": s.sharpness,
        "exposure": s.exposure,
        "contrast": s.contrast,
        "noise": s.noise,
        "motion": s.motion,
        "colour": s.colour,
        "eyes": s.eyes,
        "resolution": s.resolution,
    }
    present = {k: v for k, v in values.items() if v is not None}
    total = sum(WEIGHTS[k] for k in present)
    return math.exp(sum(WEIGHTS[k] * math.log(max(v, 1.0)) for k, v in present.items()) / total)


def overall_score(technical: float, composition: float) -> float:
    """0.85·technical + 0.15·composition, stretched: 100·(raw − 30)/(95 − 30), clipped to 0–100."""
    raw = OVERALL_TECHNICAL_WEIGHT * technical + (1.0 - OVERALL_TECHNICAL_WEIGHT) * composition
    return max(0.0, min(100.0, 100.0 * (raw - RAW_LOW) / (RAW_HIGH - RAW_LOW)))


def composition_score(s: SubScores) -> float:
    return max(0.0, min(100.0, s.placement - s.tilt_penalty))


# -------------------------------------------------------------------------------------------------- wording


def _where(x: float, y: float) -> str:
    """A plain position name ("upper left", "centre") from fractions of width and height."""
    col = "left" if x < 1 / 3 else "right" if x > 2 / 3 else ""
    row = "upper" if y < 1 / 3 else "lower" if y > 2 / 3 else ""
    if not col and not row:
        return "centre"
    if not row:
        return f"{col} side"
    if not col:
        return f"{row} middle"
    return f"{row} {col}"


def _pct(fraction: float) -> str:
    value = fraction * 100.0
    return f"{value:.0f}%" if value >= 9.5 else f"{value:.1f}%"


def _tilt_text(degrees: float) -> str:
    side = "right side high" if degrees > 0 else "right side low"
    return f"{abs(degrees):.1f}° ({side})"


def technical_critique(a: Analysis, s: SubScores) -> str:
    """A few sentences, most serious first, that say what the numbers mean for this photo."""
    issues: list[tuple[float, str]] = []  # (severity, sentence)
    good: list[str] = []

    region_at = _where(*a.sharpness.region_center)
    smeared = s.motion < 75.0
    if s.sharp_region >= 80.0 and s.sharp_overall >= 60.0:
        if not smeared:
            good.append("sharp across the frame")
    elif s.sharp_region >= 80.0:
        issues.append(
            (
                10.0,
                f"The sharpest region ({region_at}) is crisp while much of the frame is soft, "
                "as with a shallow depth of field.",
            )
        )
    elif s.sharp_region >= 50.0:
        issues.append((50.0, "Slightly soft: even the sharpest region lacks fine detail at screen size."))
    elif s.sharp_region >= 30.0:
        issues.append((100.0 - s.sharp_region, "Soft: no part of the frame shows crisp detail at screen size."))
    else:
        issues.append((100.0 - s.sharp_region, "Blurred: no part of the frame is sharp, even at screen size."))
    if smeared:
        issues.append(
            (
                100.0 - s.motion,
                f"Detail is smeared in one direction (about {a.motion.direction_deg:.0f}° from horizontal), "
                "a sign of camera shake or subject motion.",
            )
        )

    t = a.tones
    exposure_bits: list[str] = []
    st = a.subject
    subject_name = "the face" if st is not None and st.source == "faces" else "the subject"
    subject_blown = st is not None and st.source != "frame" and st.highlights_clipped >= 0.02
    if subject_blown and st is not None:
        exposure_bits.append(f"{subject_name} is blown: {_pct(st.highlights_clipped)} of it is clipped white")
    elif t.highlights_clipped >= 0.005 and st is not None and st.source != "frame" and st.confidence >= 0.75:
        exposure_bits.append(f"{_pct(t.highlights_clipped)} of the frame is clipped white, but not {subject_name}")
    elif t.highlights_clipped >= 0.005:
        exposure_bits.append(f"{_pct(t.highlights_clipped)} of the frame is clipped white")
    if t.shadows_clipped >= 0.02:
        exposure_bits.append(f"{_pct(t.shadows_clipped)} is crushed to black")
    mean_pct = t.mean_luma / 255.0 * 100.0
    if t.mean_luma > 170.0:
        exposure_bits.append(f"the image is bright overall (mean luminance {mean_pct:.0f}%)")
    elif t.mean_luma < 70.0:
        exposure_bits.append(f"the image is dark overall (mean luminance {mean_pct:.0f}%)")
    if exposure_bits:
        sentence = "; ".join(exposure_bits)
        issues.append((100.0 - s.exposure, sentence[0].upper() + sentence[1:] + "."))
    else:
        good.append(f"well exposed (mean luminance {mean_pct:.0f}%, little clipping)")

    range_pct = t.tonal_range / 255.0 * 100.0
    if t.tonal_range < 110.0:
        issues.append(
            (
                100.0 - s.contrast,
                f"Contrast is low: tones span only {range_pct:.0f}% of the range, so it may look flat.",
            )
        )
    elif t.tonal_range >= 170.0:
        good.append("full tonal range")

    if a.noise >= 8.0:
        issues.append((100.0 - s.noise, f"Heavy noise or grain (σ ≈ {a.noise:.0f} levels even at screen size)."))
    elif a.noise >= 4.0:
        issues.append((100.0 - s.noise, f"Some visible noise or fine grain (σ ≈ {a.noise:.1f} levels at screen size)."))
    else:
        good.append("clean (little noise)")

    if a.cast.strength >= 10.0:
        issues.append(
            (
                100.0 - s.colour,
                f"Neutral tones lean {a.cast.name} (ΔE {a.cast.strength:.0f}); fine if intended, "
                "otherwise check the white balance.",
            )
        )

    face_issues, face_good = people.face_sentences(a.faces, s.sharp_region)
    issues.extend(face_issues)
    good = face_good + good

    issues.sort(key=lambda item: -item[0])
    sentences = [text for _, text in issues[:4]]
    if good:
        summary = ", ".join(good)
        sentences.append(summary[0].upper() + summary[1:] + ".")
    missing = people.unavailable_note(a.faces)
    if missing:
        sentences.append(missing)
    return " ".join(sentences)


def composition_critique(a: Analysis, s: SubScores) -> str:
    """Only what is measured: subject placement against the thirds, and whether the horizon is level."""
    p = a.placement
    parts: list[str] = []
    if p.confidence < 0.15:
        parts.append("No single subject stands out, so placement on the thirds is not judged.")
    else:
        where = _where(*p.center)
        d = p.thirds_distance
        if d <= 0.06:
            parts.append(f"The main subject sits near a rule-of-thirds point ({where}).")
        elif where == "centre":
            parts.append("The main subject is centred; a centred subject suits symmetry but can feel static.")
        elif d >= 0.22:
            parts.append(f"The main subject sits near the edge ({where}), away from the thirds points.")
        else:
            parts.append(f"The main subject sits {where}, between the centre and the thirds points.")
    if a.tilt.found:
        if abs(a.tilt.degrees) < 0.5:
            parts.append("The horizon is level.")
        elif abs(a.tilt.degrees) > 10.0:
            parts.append(
                f"The strongest near-horizontal line slopes {_tilt_text(a.tilt.degrees)}, likely perspective "
                "or intended."
            )
        else:
            parts.append(f"The horizon tilts {_tilt_text(a.tilt.degrees)}.")
    parts.append("(Measured: subject placement and level only, not the design as a whole.)")
    return " ".join(parts)


# ------------------------------------------------------------------------------------------------- measures


def _colourfulness_label(m: float) -> str:
    for limit, label in (
        (7.5, "not colourful"),
        (24.0, "slightly"),
        (39.0, "moderately"),
        (52.0, "averagely"),
    ):
        if m < limit:
            return label
    return "quite" if m < 70.0 else "highly" if m < 95.0 else "extremely"


def measures(a: Analysis, s: SubScores | None = None) -> list[Measure]:
    """The raw numbers, with units, which direction is better, and a short note each.

    Names are short snake_case keys because they are typed in filters and sorts (``sharpness>=50``,
    ``measure:noise<=2``) and used as CSV column names.
    """
    sh, t, p = a.sharpness, a.tones, a.placement
    s = s or sub_scores(a)
    return [
        Measure(
            "sharpness_score",
            round(s.sharpness, 1),
            "0–100",
            True,
            "sharpest region and whole frame combined, contrast-free; below ~50 looks soft at screen size",
        ),
        Measure(
            "sharpness",
            round(sh.overall, 1),
            "LoG variance",
            True,
            "whole frame at 512 px, noise share removed; ~1 is blurred, 100+ crisp",
        ),
        Measure(
            "sharpness_region",
            round(sh.region, 1),
            "LoG variance",
            True,
            f"best quarter-width region, {_where(*sh.region_center)}; ~3 is blurred, 200+ crisp",
        ),
        Measure(
            "motion_blur",
            round(a.motion.anisotropy, 3),
            "anisotropy 0–1",
            False,
            f"fine detail lost along {a.motion.direction_deg:.0f}° more than across it; above 0.3 suggests a smear",
        ),
        Measure("highlights_clipped", round(t.highlights_clipped * 100.0, 2), "% of frame", False, "luma ≥ 250"),
        Measure("shadows_clipped", round(t.shadows_clipped * 100.0, 2), "% of frame", False, "luma ≤ 5"),
        Measure(
            "mean_luminance",
            round(t.mean_luma / 2.55, 1),
            "% of white",
            None,
            "about 30–65% is a balanced exposure for most scenes",
        ),
        Measure(
            "contrast_rms",
            round(t.rms_contrast / 2.55, 1),
            "% of full scale",
            None,
            "standard deviation of luma",
        ),
        Measure(
            "tonal_range",
            round(t.tonal_range / 2.55, 1),
            "% of full scale",
            True,
            f"1st to 99th percentile of luma ({t.p1:.0f}–{t.p99:.0f} of 255)",
        ),
        Measure(
            "noise",
            round(a.noise, 2),
            "σ, 8-bit levels",
            False,
            "Immerkær estimate in the calm areas at 512 px; fine texture can read as noise",
        ),
        Measure(
            "colourfulness",
            round(a.colourfulness, 1),
            "Hasler–Süsstrunk M",
            None,
            _colourfulness_label(a.colourfulness),
        ),
        Measure(
            "colour_cast",
            round(a.cast.strength, 1),
            "ΔE (CIELAB a*b*)",
            None,
            f"near-neutral tones lean {a.cast.name}" if a.cast.strength >= 3.0 else "neutral",
        ),
        Measure(
            "horizon_tilt",
            round(abs(a.tilt.degrees), 2),
            "degrees",
            False,
            (f"strongest near-horizontal line: {_tilt_text(a.tilt.degrees)}" if a.tilt.found else "no clear horizon"),
        ),
        Measure(
            "thirds_distance",
            round(p.thirds_distance * 100.0, 1),
            "% of diagonal to nearest thirds point",
            False,
            f"salient centre at {p.center[0] * 100:.0f}% across, {p.center[1] * 100:.0f}% down; "
            f"subject distinctness {p.confidence:.2f}",
        ),
    ]


def build_result(a: Analysis) -> ScoreResult:
    """One photo's ScoreResult: overall score, the two attributes it honestly measures, and the measures."""
    s = sub_scores(a)
    technical = technical_score(s)
    composition = composition_score(s)
    overall = overall_score(technical, composition)
    return ScoreResult(
        score=round(overall, 1),
        attributes=[
            AttributeResult(TECHNICAL, round(technical, 1), technical_critique(a, s)),
            AttributeResult(COMPOSITION, round(composition, 1), composition_critique(a, s), experimental=True),
        ],
        measures=measures(a, s) + people.measures(a),
    )
