"""Faces, eyes and resolution in the app's vocabulary: their sub-scores, measures and plain sentences.

Kept apart from ``notes`` (the frame's measures) so each stays one job and a readable size; ``notes`` calls
these when it builds a photo's result.
"""

from __future__ import annotations

import math

from artimuse_desktop.scoring.technical.measures import Analysis
from artimuse_desktop.scoring.technical.subject import FaceReport
from artimuse_desktop.scoring.types import Measure

#: a judged face whose eyes band scores below this is soft
SOFT_FACE = 45.0
#: the sharpest region scoring at least this while a face is soft: "the background is sharp"
SHARP_ELSEWHERE = 75.0


def _ramp(x: float, lo: float, hi: float) -> float:
    return min(1.0, max(0.0, (x - lo) / (hi - lo)))


def megapixels(a: Analysis) -> float | None:
    if a.source_size is None:
        return None
    w, h = a.source_size
    return w * h / 1e6 if w > 0 and h > 0 else None


def resolution_score(a: Analysis) -> float | None:
    """40 + 60·logramp(MP, 0.3, 8): a 512-px scan (0.26 MP) 40, 2 MP ~75, 8 MP and more 100; None if unknown."""
    mp = megapixels(a)
    if mp is None:
        return None
    return 40.0 + 60.0 * _ramp(math.log10(max(mp, 1e-6)), math.log10(0.3), math.log10(8.0))


def subject_sharpness(report: FaceReport | None) -> float | None:
    """Sharpness (0–100) of the largest judged face's eyes band; None when no face was judged."""
    if report is None:
        return None
    for face in report.faces:  # largest first
        if face.sharpness is not None:
            return face.sharpness
    return None


def eyes_score(report: FaceReport | None) -> float | None:
    """100 − 70·(share of judged people with their eyes shut); None when no face was judged."""
    if report is None or not report.judged:
        return None
    return 100.0 - 70.0 * report.closed / len(report.judged)


def face_sentences(report: FaceReport | None, sharp_region: float) -> tuple[list[tuple[float, str]], list[str]]:
    """(issues with severity, good points) about the people in the frame."""
    issues: list[tuple[float, str]] = []
    good: list[str] = []
    if report is None or not report.faces:
        return issues, good
    judged = report.judged
    closed = report.closed
    if judged and closed:
        if len(judged) == 1:
            issues.append((75.0, "The person's eyes are closed."))
        else:
            verb = "has" if closed == 1 else "have"
            issues.append(
                (60.0 + 30.0 * closed / len(judged), f"{closed} of {len(judged)} people {verb} their eyes closed.")
            )
    elif judged:
        good.append("eyes open" if len(judged) == 1 else f"all {len(judged)} people have their eyes open")
    soft = report.soft(SOFT_FACE)
    if soft:
        if sharp_region >= SHARP_ELSEWHERE:
            text = "The face is soft while the background is sharp: focus missed the eyes."
            if len(judged) > 1:
                text = f"{soft} of {len(judged)} faces are soft while other parts of the frame are sharp."
            issues.append((70.0, text))
        else:
            issues.append(
                (55.0, "The face is soft." if len(judged) <= 1 else f"{soft} of {len(judged)} faces are soft.")
            )
    elif judged:
        good.append("sharp eyes")
    return issues, good


def unavailable_note(report: FaceReport | None) -> str:
    """One short sentence when faces could not be checked, so an absent measure is explained, not silent."""
    if report is not None and report.unavailable:
        return "Faces and eyes were not checked (the optional face models are not installed or unreadable)."
    return ""


def measures(a: Analysis) -> list[Measure]:
    """Face, eye, subject-exposure and resolution measures (absent when they could not be measured)."""
    out: list[Measure] = []
    mp = megapixels(a)
    if mp is not None and a.source_size is not None:
        w, h = a.source_size
        out.append(Measure("resolution", round(mp, 2), "megapixels", True, f"{w}×{h} px original"))
    st = a.subject
    if st is not None and st.source != "frame":
        where = "faces" if st.source == "faces" else "the salient subject"
        out.append(
            Measure(
                "subject_highlights_clipped",
                round(st.highlights_clipped * 100.0, 2),
                "% of subject",
                False,
                f"luma ≥ 250 on {where}",
            )
        )
        out.append(
            Measure(
                "subject_shadows_clipped",
                round(st.shadows_clipped * 100.0, 2),
                "% of subject",
                False,
                f"luma ≤ 5 on {where}",
            )
        )
        out.append(
            Measure("subject_luminance", round(st.mean_luma / 2.55, 1), "% of white", None, f"mean luma of {where}")
        )
    report = a.faces
    if report is None or report.unavailable:
        return out
    judged = report.judged
    out.append(Measure("faces", float(len(report.faces)), "count", None, f"{len(judged)} large enough to judge"))
    if not report.faces:
        return out
    out.append(Measure("face_share", round(report.largest_share * 100.0, 2), "% of frame", None, "largest face box"))
    if judged:
        out.append(
            Measure(
                "eyes_closed",
                float(report.closed),
                "people",
                False,
                f"of {len(judged)} judged; eye aspect ratio under 0.2",
            )
        )
        ratios = [f.eye_ratio for f in judged if f.eye_ratio is not None]
        out.append(
            Measure(
                "eye_openness",
                round(min(ratios), 3),
                "eye aspect ratio",
                True,
                "lowest of the judged faces; ~0.3 open, under 0.2 shut",
            )
        )
    sharp = [f.sharpness for f in report.faces if f.sharpness is not None]
    if sharp:
        out.append(
            Measure(
                "face_sharpness",
                round(min(sharp), 1),
                "0–100",
                True,
                "eyes region of the softest judged face; below 45 looks soft",
            )
        )
        out.append(Measure("soft_faces", float(report.soft(SOFT_FACE)), "faces", False, "eyes region below 45"))
    return out
