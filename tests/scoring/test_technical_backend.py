"""The ``technical`` backend end to end: real JPEG files, previews, the imaging decoder and the registry."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.backend import Backend
from artimuse_desktop.scoring.registry import create_backend
from artimuse_desktop.scoring.technical.backend import ANALYSIS_EDGE, PrepareFailure, TechnicalBackend
from artimuse_desktop.scoring.types import PhotoInput
from artimuse_desktop.vocabulary import ATTRIBUTES
from tests.images import photo_like

MEASURED = {"Technical Execution", "Composition & Design"}


def save(image: Image.Image, path: Path, quality: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=quality)
    return path


def item(path: Path, photo_id: int = 1, preview: Path | None = None) -> PhotoInput:
    return PhotoInput(
        photo_id=photo_id,
        path=str(path),
        fingerprint=f"{photo_id:064x}",
        preview_path=str(preview) if preview else None,
    )


@pytest.fixture
def backend() -> TechnicalBackend:
    chosen = create_backend("technical")
    assert isinstance(chosen, TechnicalBackend)
    chosen.load("cpu")
    return chosen


@pytest.fixture(scope="module")
def sharp() -> Image.Image:
    return photo_like(2400, 1600, seed=3)


def test_it_is_a_backend_that_is_always_available(backend: TechnicalBackend) -> None:
    assert isinstance(backend, Backend)
    assert backend.name == "technical" and backend.version and backend.description
    assert backend.supports_critique is False
    assert backend.availability().available
    backend.unload()  # nothing to free, must not fail


def test_prepare_reads_the_preview_when_there_is_one(
    backend: TechnicalBackend, sharp: Image.Image, tmp_path: Path
) -> None:
    original = save(sharp, tmp_path / "IMG_0001.jpg")
    # a grey preview of a colourful original shows which one was read
    preview = save(sharp.resize((1600, 1067)).convert("L").convert("RGB"), tmp_path / "previews" / "1.jpg")
    pixels = backend.load_pixels(item(original, preview=preview))
    assert isinstance(pixels, np.ndarray) and pixels.dtype == np.float32
    assert max(pixels.shape[:2]) == ANALYSIS_EDGE and pixels.shape[2] == 3
    assert float(pixels.min()) >= 0.0 and float(pixels.max()) <= 1.0
    assert float(np.abs(pixels[..., 0] - pixels[..., 2]).max()) < 0.05  # grey: came from the preview


def test_prepare_decodes_the_original_without_a_preview(
    backend: TechnicalBackend, sharp: Image.Image, tmp_path: Path
) -> None:
    """Goes through artimuse_desktop.imaging.decode.load_for_analysis (reduced JPEG decode, EXIF applied)."""
    original = save(sharp, tmp_path / "IMG_0002.jpg")
    for photo in (item(original), item(original, preview=tmp_path / "missing-preview.jpg")):
        pixels = backend.load_pixels(photo)
        assert isinstance(pixels, np.ndarray), pixels
        assert pixels.shape == (341, 512, 3)
        assert float(np.abs(pixels[..., 0] - pixels[..., 2]).max()) > 0.2  # colourful: the original


def test_prepare_applies_exif_orientation_of_the_original(
    backend: TechnicalBackend, sharp: Image.Image, tmp_path: Path
) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90° clockwise to view
    path = tmp_path / "IMG_0003.jpg"
    sharp.save(path, "JPEG", quality=90, exif=exif.tobytes())
    pixels = backend.load_pixels(item(path))
    assert isinstance(pixels, np.ndarray), pixels
    assert pixels.shape[:2] == (512, 341)  # upright: portrait


def test_a_corrupt_photo_gives_an_error_result_and_the_batch_goes_on(
    backend: TechnicalBackend, sharp: Image.Image, tmp_path: Path
) -> None:
    good = save(sharp, tmp_path / "good.jpg")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(good.read_bytes()[:300])  # a truncated JPEG
    garbage = tmp_path / "notes.jpg"
    garbage.write_bytes(b"this is not an image at all")
    items = [item(good, 1), item(broken, 2), item(garbage, 3), item(good, 4)]
    assert isinstance(backend.load_pixels(items[1]), PrepareFailure)
    assert isinstance(backend.load_pixels(items[2]), PrepareFailure)
    prepared = [backend.prepare(i) for i in items]
    results = backend.score_batch(prepared)
    assert len(results) == 4
    assert results[0].error is None and results[3].error is None
    assert results[1].error and results[2].error
    assert results[1].score is None and not results[1].attributes  # a failure is absent, never 0
    # anything odd reaching score_batch is one failed photo too, not an exception
    odd = backend.score_batch([np.zeros((4, 4), np.float32), prepared[0]])
    assert odd[0].error and odd[1].error is None


def test_a_corrupt_preview_falls_back_to_the_original(
    backend: TechnicalBackend, sharp: Image.Image, tmp_path: Path
) -> None:
    original = save(sharp, tmp_path / "IMG_0004.jpg")
    preview = tmp_path / "previews" / "4.jpg"
    preview.parent.mkdir()
    preview.write_bytes(b"\xff\xd8\xff\xe0 half a preview")
    pixels = backend.load_pixels(item(original, preview=preview))
    assert isinstance(pixels, np.ndarray), pixels


def test_score_batch_returns_one_result_per_item_in_order(
    backend: TechnicalBackend, sharp: Image.Image, tmp_path: Path
) -> None:
    blurred = sharp.filter(ImageFilter.GaussianBlur(12))
    blown = Image.eval(sharp, lambda v: min(255, v * 3))
    paths = [
        save(blurred, tmp_path / "a_blurred.jpg"),
        save(sharp, tmp_path / "b_sharp.jpg"),
        save(blown, tmp_path / "c_blown.jpg"),
    ]
    results = backend.score_batch([backend.prepare(item(p, i)) for i, p in enumerate(paths)])
    assert len(results) == 3 and all(r.error is None for r in results)
    blurred_r, sharp_r, blown_r = results
    assert sharp_r.score is not None and blurred_r.score is not None and blown_r.score is not None
    assert sharp_r.score > blurred_r.score + 15
    assert sharp_r.score > blown_r.score + 15
    clipped = {m.name: m.value for m in blown_r.measures}["highlights_clipped"]
    assert clipped > 20.0
    assert "clipped white" in (blown_r.attributes[0].critique or "")


def test_only_the_measured_attributes_are_present(
    backend: TechnicalBackend, sharp: Image.Image, tmp_path: Path
) -> None:
    (result,) = backend.score_batch([backend.prepare(item(save(sharp, tmp_path / "x.jpg")))])
    names = {a.attribute for a in result.attributes}
    assert names == MEASURED
    assert all(name not in names for name in set(ATTRIBUTES) - MEASURED)
    assert all(a.score is not None and a.critique for a in result.attributes)
    assert result.score is not None and 0 <= result.score <= 100
    for measure in result.measures:
        assert measure.unit and measure.note
        assert measure.higher_is_better in (True, False, None)
        assert np.isfinite(measure.value)


def test_prepare_is_thread_safe(backend: TechnicalBackend, sharp: Image.Image, tmp_path: Path) -> None:
    paths = [save(photo_like(1200, 800, seed=s), tmp_path / f"p{s}.jpg") for s in range(6)]
    items = [item(p, i) for i, p in enumerate(paths)] * 2
    serial = [backend.prepare(i) for i in items]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(backend.prepare, items))
    for a, b in zip(serial, parallel, strict=True):
        assert a.error is None and b.error is None
        assert a.score == b.score and a.measures == b.measures


def test_critique_is_refused_with_a_readable_reason(backend: TechnicalBackend, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no critiques"):
        backend.critique(item(tmp_path / "x.jpg"), ["Technical Execution"])
