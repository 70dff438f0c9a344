"""The built-in Score as a culler uses it: real photos scored by the backend, stored in a real catalog.

"Closed eyes" and "Soft faces" collect what the face measures flag; a burst's sharp frame beats its flawed
siblings on real photographs; a 512 px scan no longer outranks a full-size photo of the same scene.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from artimuse_desktop.catalog.collections import ViewQuery, run_stats, run_view_query
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from artimuse_desktop.scoring.technical import faces
from artimuse_desktop.scoring.technical.backend import TechnicalBackend
from artimuse_desktop.scoring.types import PhotoInput, ScoreResult
from tests.factory import add_photo, save_scores
from tests.scoring.test_technical_faces import shut_eyes

data = pytest.importorskip("skimage.data")


def photo_input(path: Path, photo_id: int, size: tuple[int, int] | None = None) -> PhotoInput:
    w, h = size or Image.open(path).size
    return PhotoInput(photo_id=photo_id, path=str(path), fingerprint=f"{photo_id:064x}", width=w, height=h)


def score(path: Path, size: tuple[int, int] | None = None) -> ScoreResult:
    result = TechnicalBackend().prepare(photo_input(path, 1, size))
    assert result.error is None, result.error
    return result


def upscaled(image: Image.Image, factor: int = 4) -> Image.Image:
    """A full-size frame of a real photo (4× its 512 px), as a camera file reaches the analyzer."""
    return image.resize((image.width * factor, image.height * factor), Image.Resampling.BICUBIC)


@pytest.mark.skipif(faces.unavailable_reason() is not None, reason=str(faces.unavailable_reason()))
def test_closed_eyes_and_soft_faces_collections(catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    astronaut = Image.fromarray(data.astronaut())
    (face,) = faces.find_faces(np.asarray(astronaut, np.float32) / 255)
    assert face.landmarks is not None
    x0, y0, x1, y1 = (round(v) for v in face.box)
    mask = Image.new("L", astronaut.size, 0)
    mask.paste(255, (x0 - 10, y0 - 10, x1 + 10, y1 + 10))
    frames = {
        "open.jpg": astronaut,
        "closed.jpg": shut_eyes(astronaut, face.landmarks),
        "soft_face.jpg": Image.composite(astronaut.filter(ImageFilter.GaussianBlur(1.5)), astronaut, mask),
        "coffee.jpg": Image.fromarray(data.coffee()),
    }
    ids: dict[str, int] = {}
    results: dict[int, ScoreResult] = {}
    for name, image in frames.items():
        path = tmp_path / name
        upscaled(image).save(path, "JPEG", quality=92)
        pid = add_photo(catalog, path)
        ids[name] = pid
        results[pid] = TechnicalBackend().prepare(photo_input(path, pid))
    save_scores(catalog, "technical", results, version=TechnicalBackend.version)

    stats = run_stats(catalog, [])
    assert stats.counts["closed_eyes"] == 1 and stats.counts["soft_faces"] == 1
    assert {"eyes_closed", "soft_faces", "faces", "face_sharpness"} <= set(stats.measures)

    def collection(kind: str) -> list[int]:
        query = ViewQuery(kind, None, PhotoFilter(), SortSpec("score", True), False)
        return run_view_query(catalog, query).ids

    assert collection("closed_eyes") == [ids["closed.jpg"]]
    assert collection("soft_faces") == [ids["soft_face.jpg"]]
    best = collection("all")
    assert best.index(ids["open.jpg"]) < best.index(ids["closed.jpg"])
    assert best.index(ids["open.jpg"]) < best.index(ids["soft_face.jpg"])


def test_a_bursts_sharp_frame_beats_its_flawed_siblings_on_real_photos(tmp_path: Path) -> None:
    for name in ("astronaut", "coffee", "chelsea"):
        photo = upscaled(Image.fromarray(getattr(data, name)()))
        pixels = np.asarray(photo, np.float32)
        burst = {
            "sharp": photo,
            "blurred": photo.filter(ImageFilter.GaussianBlur(8)),
            "over": Image.fromarray(np.clip(pixels * 2.0, 0, 255).astype(np.uint8)),
            "under": Image.fromarray(np.clip(pixels * 0.12, 0, 255).astype(np.uint8)),
        }
        scores = {}
        for label, frame in burst.items():
            path = tmp_path / f"{name}_{label}.jpg"
            frame.save(path, "JPEG", quality=92)
            scores[label] = score(path).score
        assert all(v is not None for v in scores.values())
        best = max(scores, key=lambda k: scores[k] or 0.0)
        assert best == "sharp", (name, scores)
        assert all((scores["sharp"] or 0) > (v or 0) + 15 for k, v in scores.items() if k != "sharp"), (name, scores)


def test_resolution_is_its_own_measure_and_a_small_scan_ranks_below_the_full_photo(tmp_path: Path) -> None:
    photo = Image.fromarray(data.chelsea())
    scan, full = tmp_path / "scan.jpg", tmp_path / "full.jpg"
    photo.resize((512, round(512 * photo.height / photo.width))).save(scan, "JPEG", quality=92)
    upscaled(photo).save(full, "JPEG", quality=92)
    small, large = score(scan), score(full)
    small_mp = {m.name: m.value for m in small.measures}["resolution"]
    large_mp = {m.name: m.value for m in large.measures}["resolution"]
    assert small_mp < 0.3 < 2.0 < large_mp
    assert small.score is not None and large.score is not None and large.score > small.score + 5
    unknown = TechnicalBackend().prepare(PhotoInput(1, str(full), "0" * 64))
    assert "resolution" not in {m.name for m in unknown.measures}  # size unknown: absent, never guessed
