"""ArtiMuseBackend: the Backend protocol on top of the model store, the batched scorer and the critique.

``prepare`` (thread pool) decodes the ORIGINAL photo at full size, with EXIF orientation applied, and
preprocesses it: the score is meant to judge the photo, not a preview. A reduced-size JPEG decode is available
for speed but never the default. ``score_batch`` scores all prepared photos in one forward pass; a batch of
one photo (the pipeline scores a photo just before critiquing it) keeps that photo's prefilled prefix (system
turn + image, ``prefix``) so its critiques branch from it instead of encoding the image again. ``version``
changes with the weights (their sha256), this code and the prompts, so stored scores can tell when they are
stale.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.errors import DecodeError, ModelUnavailableError, PhotoError
from artimuse_desktop.scoring.artimuse import discovery, prompts, store
from artimuse_desktop.scoring.artimuse.preprocess import INPUT_SIZE, preprocess
from artimuse_desktop.scoring.backend import Availability, TokenCallback
from artimuse_desktop.scoring.types import AttributeResult, PhotoInput, ScoreResult
from artimuse_desktop.vocabulary import ATTRIBUTES, canonical_attribute

log = logging.getLogger(__name__)

# Bump when a code change can change a score or a critique (prompt changes are caught by the fingerprint).
CODE_VERSION = 1
#: Bumped when the quantised arithmetic changes its numbers (2: the score prompt in one pass, not prefix + rest;
#: 3: 8-bit activations scaled per sample, not per batch; 4: on x86 int8 layers through oneDNN with a scale
#: per token, not fbgemm's per sample, and quantised models' attention through the fused sdpa kernel).
QUANT_VERSION = 4


@dataclass(frozen=True)
class PreparedPhoto:
    """What ``prepare`` hands to ``score_batch``: the photo's pixels, ``[3, 448, 448]`` float32."""

    photo_id: int
    path: str
    pixel_values: np.ndarray


REDUCED_LONG_EDGE = 3 * INPUT_SIZE


def decode_photo(path: str, reduced: bool = False, orientation: int | None = None) -> Any:
    """The photo as an upright PIL RGB image: full size via the app's decoder by default.

    ``reduced`` asks the decoder for a long edge of ``REDUCED_LONG_EDGE`` (JPEG DCT scaling, embedded RAW
    previews): faster, but the model then sees slightly different pixels, so it is never the default.
    ``orientation`` (an EXIF value from the catalog) overrides the file's own.
    """
    from PIL import ImageOps

    try:
        from artimuse_desktop.imaging import decode as app_decode
    except ImportError:
        log.debug("artimuse_desktop.imaging.decode is not available; decoding with Pillow")
    else:
        if reduced or orientation is not None:
            long_edge = REDUCED_LONG_EDGE if reduced else None
            return app_decode.decode(path, long_edge, orientation=orientation).image
        return app_decode.load_full_rgb(path)
    with Image.open(path) as image:
        if reduced and image.format == "JPEG":
            image.draft("RGB", (REDUCED_LONG_EDGE, REDUCED_LONG_EDGE))
        upright = ImageOps.exif_transpose(image)
        return (upright if upright is not None else image).convert("RGB")


def _pixels_key(pixel_values: np.ndarray) -> bytes:
    """A digest of a photo's model input: the same pixels give the same prefix, whatever path they came by."""
    import hashlib

    return hashlib.blake2b(np.ascontiguousarray(pixel_values).tobytes(), digest_size=16).digest()


class ArtiMuseBackend:
    """An installed ArtiMuse model (``model_name`` None: the default one) as a scoring backend."""

    supports_critique = True

    def __init__(
        self,
        model_name: str | None = None,
        *,
        device: str = "auto",
        dtype: str | None = None,
        quantize: str | None = None,
        experimental_attribute_scores: bool = False,
        reduced_decode: bool = False,
        max_new_tokens: int | None = None,
    ) -> None:
        self.entry = store.get_model(model_name)
        self.name = f"artimuse:{self.entry.name}"
        size = f"{self.entry.num_parameters / 1e9:.1f}B" if self.entry.num_parameters >= 1e8 else "small"
        self.description = f"ArtiMuse {self.entry.name} ({size}): aesthetic score 0–100 and expert critiques"
        self.device = device
        self.dtype = dtype
        self.quantize = quantize
        self.experimental_attribute_scores = experimental_attribute_scores
        self.reduced_decode = reduced_decode
        self.max_new_tokens = max_new_tokens
        self.version = self._version()
        self._loaded: Any = None
        self._load_lock = threading.Lock()
        self._last_prefix: tuple[tuple[int, bytes], Any] | None = None
        self._prefix_lock = threading.Lock()

    def _version(self) -> str:
        """Weights checksum + code version + prompt fingerprint (+ quantisation, which moves the numbers)."""
        suffix = f".{self.quantize}.q{QUANT_VERSION}" if self.quantize else ""
        if self.experimental_attribute_scores:
            suffix += ".xattr"  # results then carry attribute scores: a different assessment
        return f"w{self.entry.checksum[:12]}.c{CODE_VERSION}.p{prompts.prompt_fingerprint()}{suffix}"

    def set_experimental_attribute_scores(self, enabled: bool) -> None:
        """Also score the 8 attributes through the score head with aspect prompts (experimental: the released
        checkpoints were trained for the holistic score only). The holistic score is unchanged."""
        self.experimental_attribute_scores = enabled
        self.version = self._version()

    # -- lifecycle -------------------------------------------------------------------------------------------

    def availability(self) -> Availability:
        missing = discovery.missing_packages()
        if missing:
            return Availability(False, f"needs the Python packages {', '.join(missing)} ({discovery.install_hint()})")
        problem = store.check_installed(self.entry)
        if problem:
            return Availability(False, f"model files incomplete: {problem}")
        return Availability(True, "installed")

    def load(self, device: str = "auto", quantize: str | None = None, dtype: str | None = None) -> None:
        """Load once (idempotent). Arguments other than the defaults override those given at construction."""
        from artimuse_desktop.scoring.artimuse import model

        with self._load_lock:
            if quantize not in (None, "none"):
                if self._loaded is not None and quantize != self.quantize:
                    raise ModelUnavailableError(f"{self.name} is already loaded, not as {quantize}")
                self.quantize = quantize
                self.version = self._version()
            if dtype is not None:
                self.dtype = dtype
            if self._loaded is not None:
                return
            availability = self.availability()
            if not availability.available:
                raise ModelUnavailableError(f"{self.name} is not available: {availability.reason}")
            chosen = device if device != "auto" else self.device
            self._loaded = model.load_model(self.entry, chosen, dtype=self.dtype, quantize=self.quantize)

    def unload(self) -> None:
        from artimuse_desktop.scoring.artimuse import model

        with self._load_lock:
            loaded, self._loaded = self._loaded, None
        with self._prefix_lock:
            self._last_prefix = None
        model.release(loaded)

    @property
    def loaded(self) -> Any:
        """The LoadedModel (loads on first use)."""
        if self._loaded is None:
            self.load(self.device)
        return self._loaded

    # -- scoring ---------------------------------------------------------------------------------------------

    def prepare(self, item: PhotoInput) -> PreparedPhoto:
        """Decode + preprocess, on a worker thread. A photo that cannot be read raises DecodeError (the
        pipeline records it for that photo and goes on)."""
        try:
            image = decode_photo(item.path, reduced=self.reduced_decode, orientation=item.orientation)
            pixels = preprocess(image)
        except PhotoError:
            raise
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise DecodeError(item.path, str(exc) or type(exc).__name__) from exc
        return PreparedPhoto(item.photo_id, item.path, pixels)

    def score_batch(self, prepared: Sequence[Any]) -> list[ScoreResult]:
        """One forward pass for the whole batch; raises our OutOfMemoryError so the caller can halve it."""
        from artimuse_desktop.scoring.artimuse import scorer

        if not prepared:
            return []
        pixels = np.stack([p.pixel_values for p in prepared])
        aspects = ATTRIBUTES if self.experimental_attribute_scores else ()
        lm = self.loaded
        if len(prepared) == 1:  # e.g. before a critique: keep the photo's prefix for the critiques to branch
            one, shared = scorer.score_with_prefix(lm, pixels, experimental_aspects=aspects)
            self._remember_prefix((id(lm), _pixels_key(prepared[0].pixel_values)), shared)
            scores = [one]
        else:
            scores = scorer.score_images(lm, pixels, experimental_aspects=aspects)
        return [
            ScoreResult(
                score=image_score.score,
                attributes=[
                    AttributeResult(attribute=a.aspect, score=a.score, experimental=True)
                    for a in image_score.attributes
                ],
            )
            for image_score in scores
        ]

    # -- critique --------------------------------------------------------------------------------------------

    def critique_detailed(
        self,
        item: PhotoInput,
        attributes: Sequence[str] = (),
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> Any:
        """Like ``critique`` but returns the full CritiqueOutput (ids, finished flags, cancelled)."""
        from artimuse_desktop.scoring.artimuse import critique

        aspects = [canonical_attribute(a) for a in attributes] or list(ATTRIBUTES)
        aspects = list(dict.fromkeys(aspects))
        prepared = self.prepare(item)
        lm = self.loaded
        key = (id(lm), _pixels_key(prepared.pixel_values))
        shared = self._remembered_prefix(key)
        output = critique.critique_image(
            lm,
            prepared.pixel_values,
            aspects,
            on_token=on_token,
            cancel=cancel,
            max_new_tokens=self.critique_length(),
            shared=shared,
        )
        if shared is None and output.prefix is not None:
            self._remember_prefix(key, output.prefix)
        return output

    def critique_length(self) -> int:
        """Most tokens per critique: the one given to this backend, else the user's setting (default 1024)."""
        from artimuse_desktop import settings
        from artimuse_desktop.scoring.artimuse.critique import check_max_new_tokens

        if self.max_new_tokens is not None:
            return check_max_new_tokens(self.max_new_tokens)
        return settings.load().critique_max_new_tokens

    # -- one prefix per photo ---------------------------------------------------------------------------------

    def _remembered_prefix(self, key: tuple[int, bytes]) -> Any:
        """The photo's prefilled prefix its score (or an earlier critique) left: same pixels, same model."""
        with self._prefix_lock:
            if self._last_prefix is not None and self._last_prefix[0] == key:
                return self._last_prefix[1]
        return None

    def _remember_prefix(self, key: tuple[int, bytes], shared: Any) -> None:
        """Keep one photo's prefix (tens of MB at 8B): a score followed by its critiques encodes it once."""
        with self._prefix_lock:
            self._last_prefix = (key, shared)

    def critique(
        self,
        item: PhotoInput,
        attributes: Sequence[str],
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> dict[str, str]:
        """Critiques for ``attributes`` (all 8 when empty), generated together and streamed via ``on_token``.

        When cancelled, only the critiques that had already finished are returned (usually none: they are
        generated together); the caller should check ``cancel.cancelled`` and not store partial text.
        """
        output = self.critique_detailed(item, attributes, on_token, cancel)
        completed: dict[str, str] = output.completed
        return completed
