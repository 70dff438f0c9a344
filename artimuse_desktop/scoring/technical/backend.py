"""The built-in ``technical`` backend: classic image measurements instead of a model, numpy and Pillow only.

It needs no weights, no torch and no GPU, so the app can always score something: sharpness (overall and of the
sharpest region), motion-blur hint, exposure and clipping, contrast, noise, colourfulness, colour cast,
horizon tilt and thirds placement, all at about 512 px. It fills "Technical Execution" and, narrowly,
"Composition & Design"; the other attributes need an aesthetic model and are left absent rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.errors import ModelError, PhotoError
from artimuse_desktop.scoring.backend import Availability, TokenCallback
from artimuse_desktop.scoring.technical.measures import analyze
from artimuse_desktop.scoring.technical.notes import build_result
from artimuse_desktop.scoring.types import PhotoInput, ScoreResult

#: every photo is measured at this long edge, so resolution-dependent numbers (sharpness, noise) compare
ANALYSIS_EDGE = 512


@dataclass(frozen=True)
class PrepareFailure:
    """What ``prepare`` hands on for an unreadable photo, so the batch records an error, not a raise."""

    photo_id: int
    reason: str


Prepared = npt.NDArray[np.float32] | PrepareFailure


def _fit(image: Image.Image, long_edge: int = ANALYSIS_EDGE) -> Image.Image:
    """Downscale (never upscale) to ``long_edge`` on the long side with Pillow's antialiased bilinear."""
    w, h = image.size
    scale = long_edge / max(w, h)
    if scale >= 1.0:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return image.resize(size, Image.Resampling.BILINEAR)


def open_preview(path: str | Path, long_edge: int = ANALYSIS_EDGE) -> Image.Image:
    """Decode a preview JPEG at reduced size: ``draft`` lets libjpeg scale in the DCT (by 1/2, 1/4 or 1/8).

    Previews are written already orientation-corrected, so no EXIF rotation is applied here.
    """
    with Image.open(path) as im:
        w, h = im.size
        scale = long_edge / max(w, h)
        im.draft("RGB", (max(1, round(w * scale)), max(1, round(h * scale))))
        rgb = im.convert("RGB")
    return _fit(rgb, long_edge)


def to_array(image: Image.Image) -> npt.NDArray[np.float32]:
    """H×W×3 float32 RGB in 0–1."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return np.asarray(rgb, dtype=np.uint8).astype(np.float32) * np.float32(1.0 / 255.0)


def _source_size(item: PhotoInput) -> tuple[int, int] | None:
    """The original's pixel size as the catalog knows it (for the resolution measure), or None."""
    if item.width and item.height and item.width > 0 and item.height > 0:
        return int(item.width), int(item.height)
    return None


class TechnicalBackend:
    """Scores photos from measurements; thread-safe ``prepare`` (no shared state), no model to load."""

    name = "technical"
    version = "2.0"
    description = (
        "Built-in technical analyzer: sharpness, motion blur, exposure, contrast, noise, colour, "
        "horizon tilt and rule-of-thirds placement, measured at 512 px; faces, closed eyes and soft faces "
        "with the optional face models; exposure and focus judged where the subject is. CPU only."
    )
    supports_critique = False

    def availability(self) -> Availability:
        from artimuse_desktop.scoring.technical.faces import unavailable_reason

        reason = unavailable_reason()
        faces = "faces and eyes on (MediaPipe models on LiteRT)" if reason is None else reason
        return Availability(True, f"built in (numpy and Pillow); {faces}")

    def load(self, device: str = "auto") -> None:
        """Nothing to load: the analyzer has no weights."""

    def unload(self) -> None:
        """Nothing to free."""

    def prepare(self, item: PhotoInput) -> ScoreResult:
        """Decode and measure one photo. All the work happens here, on the pipeline's thread pool, so it
        spreads over every core (numpy and Pillow release the GIL); ``score_batch`` only hands results on.

        Never raises for a bad photo: the result carries the error instead.
        """
        pixels = self.load_pixels(item)
        if isinstance(pixels, PrepareFailure):
            return ScoreResult(error=pixels.reason)
        try:
            return build_result(analyze(pixels, source_size=_source_size(item)))
        except Exception as exc:  # one odd photo must not stop a run of thousands
            return ScoreResult(error=f"technical analysis failed: {exc or type(exc).__name__}")

    def load_pixels(self, item: PhotoInput) -> Prepared:
        """Pixels at ~512 px: from the preview when there is one, else a reduced decode of the original."""
        preview_problem = ""
        if item.preview_path and Path(item.preview_path).is_file():
            try:
                return to_array(open_preview(item.preview_path))
            except (OSError, ValueError, Image.DecompressionBombError) as exc:
                preview_problem = f" (preview unreadable: {exc})"
        try:
            from artimuse_desktop.imaging.decode import load_for_analysis

            image = load_for_analysis(item.path, ANALYSIS_EDGE)
            return to_array(_fit(image))
        except PhotoError as exc:
            return PrepareFailure(item.photo_id, f"cannot decode: {exc.reason}{preview_problem}")
        except ImportError as exc:
            return PrepareFailure(item.photo_id, f"no decoder for originals available ({exc}){preview_problem}")
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            return PrepareFailure(item.photo_id, f"cannot decode: {exc}{preview_problem}")

    def score_batch(self, prepared: Sequence[Any]) -> list[ScoreResult]:
        """One result per item, in order; ``prepare`` already measured them (a failed photo has ``error``)."""
        results: list[ScoreResult] = []
        for item in prepared:
            if isinstance(item, ScoreResult):
                results.append(item)
            else:
                results.append(ScoreResult(error=f"not prepared by the technical backend: {type(item).__name__}"))
        return results

    def critique(
        self,
        item: PhotoInput,
        attributes: Sequence[str],
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> dict[str, str]:
        raise ModelError(
            "The technical analyzer writes no critiques",
            hint="its short notes come with the scores; choose an ArtiMuse model for written critiques",
        )
