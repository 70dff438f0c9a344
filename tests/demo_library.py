"""A generated sample library for the screenshots (docs/render_screenshots.py) and the GUI benchmark
(bench/bench_gui.py): photo-like JPEGs (``tests/scenes.py``) or bare rows, with varied decisions and scores.

A development tool, not part of the application: rows go in through ``tests/factory.py``, so assessments are
written by ``scoring.store`` as a real scoring run writes them. Technical measures for every photo,
ArtiMuse-style attribute scores for most, some absent and some experimental; bursts of near-identical frames a
fraction of a second apart.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.scoring.types import AttributeResult, Measure, ScoreResult
from artimuse_desktop.vocabulary import ATTRIBUTES
from tests.factory import insert_photos, photo_row, save_scores, set_score_model
from tests.scenes import SCENES, make_image, phash

CAMERAS = (
    ("Fujifilm", "X-T5", "XF16-55mmF2.8 R LM WR"),
    ("Canon", "EOS R6", "RF24-105mm F4 L IS USM"),
    ("Nikon", "Z 6II", "NIKKOR Z 24-70mm f/4 S"),
    ("Sony", "ILCE-7M4", "FE 35mm F1.8"),
)
DEMO_ARTIMUSE = "artimuse"
DEMO_ARTIMUSE_VERSION = "demo-1"
TECHNICAL_VERSION = "1.0"
CRITIQUES = {
    "Composition & Design": [
        "The horizon sits on the lower third and the ridge lines lead the eye from left to right into the light.",
        "The main subject is centred, which feels static; a step to the left would give it room to breathe.",
        "Strong diagonal layers create depth; the bright sky corner pulls attention away from the subject.",
    ],
    "Visual Elements & Structure": [
        "Layered tones from dark foreground to pale distance build a convincing sense of space.",
        "Repeating shapes give rhythm, though the busy edges compete with the centre.",
    ],
    "Technical Execution": [
        "Focus is crisp on the subject and exposure holds detail in the highlights.",
        "Slight softness at the edges and a lifted black point flatten the contrast.",
    ],
    "Emotion & Viewer Response": [
        "The warm light gives a calm, contemplative mood.",
        "The cool palette reads as quiet and a little lonely, which suits the scene.",
    ],
}
#: name, unit, higher is better, lowest and highest value drawn
MEASURES: tuple[tuple[str, str, bool | None, float, float], ...] = (
    ("sharpness", "", True, 40.0, 900.0),
    ("exposure", "EV", None, -1.5, 1.5),
    ("noise", "levels", False, 0.3, 6.0),
    ("highlight_clipping", "%", False, 0.0, 4.0),
    ("tilt", "°", False, 0.0, 3.0),
)
CHUNK = 10_000  # photos per transaction in bulk_catalog


def _photo_fields(
    rng: random.Random, taken: datetime, camera: tuple[str, str, str] | None = None, **fields: Any
) -> dict[str, Any]:
    """EXIF-like metadata and the photographer's decisions, drawn from ``rng`` (always in the same order)."""
    make, model, lens = camera or rng.choice(CAMERAS)
    flag = rng.choices((0, 1, -1), (0.7, 0.18, 0.12))[0]
    return {
        "mtime": taken.timestamp(),
        "format": "JPEG",
        "orientation": 1,
        "captured_at": taken,
        "camera_make": make,
        "camera_model": model,
        "lens": lens,
        "focal_length": float(rng.choice((16, 23, 35, 50, 85, 105))),
        "aperture": rng.choice((1.8, 2.8, 4.0, 5.6, 8.0, 11.0)),
        "shutter": rng.choice((1 / 1000, 1 / 500, 1 / 250, 1 / 125, 1 / 60, 1 / 15, 0.5)),
        "iso": rng.choice((100, 200, 400, 800, 1600, 3200)),
        "indexed_at": datetime.now(),
        "flag": flag,
        "rating": rng.choices((0, 1, 2, 3, 4, 5), (0.55, 0.08, 0.12, 0.13, 0.08, 0.04))[0],
        "color_label": rng.choices((None, "red", "yellow", "green", "blue"), (0.8, 0.05, 0.05, 0.05, 0.05))[0],
        **fields,
    }


def _technical(rng: random.Random, quality: float) -> ScoreResult:
    score = round(min(99.0, max(5.0, quality + rng.gauss(0, 9))), 1)
    measures = []
    for name, unit, better, low, high in MEASURES:
        value = rng.uniform(low, high)
        note = None
        if name == "sharpness":
            note = "Crisp detail at 100 %" if value > 400 else "Soft: check focus or motion blur"
        elif name == "highlight_clipping" and value > 2:
            note = "Clipped highlights in the sky"
        measures.append(Measure(name, round(value, 3), unit, better, note))
    return ScoreResult(score=score, measures=measures)


def _artimuse(rng: random.Random, quality: float, critiques: bool) -> ScoreResult:
    attributes = []
    for index, attribute in enumerate(ATTRIBUTES):
        if attribute == "Originality & Creativity" and rng.random() < 0.4:
            continue  # absent: shown as "—", never as 0
        score = round(min(99.0, max(5.0, quality + rng.gauss(0, 8))), 1)
        critique = rng.choice(CRITIQUES[attribute]) if critiques and attribute in CRITIQUES else None
        attributes.append(AttributeResult(attribute, score, critique, experimental=index >= 6))
    return ScoreResult(score=round(quality, 1), attributes=attributes)


def _save_assessments(
    catalog: Catalog,
    photo_ids: Sequence[int],
    fingerprints: Sequence[str],
    rng: random.Random,
    *,
    critiques: bool,
    artimuse_share: float,
) -> None:
    """Technical measures for every photo, ArtiMuse-style scores for ``artimuse_share`` of them."""
    technical: dict[int, ScoreResult] = {}
    artimuse: dict[int, ScoreResult] = {}
    for pid in photo_ids:
        quality = min(96.0, max(12.0, rng.gauss(58, 15)))
        technical[pid] = _technical(rng, quality)
        if rng.random() <= artimuse_share:
            artimuse[pid] = _artimuse(rng, quality, critiques)
    content = dict(zip(photo_ids, fingerprints, strict=True))
    save_scores(catalog, "technical", technical, version=TECHNICAL_VERSION, content=content)
    save_scores(catalog, DEMO_ARTIMUSE, artimuse, version=DEMO_ARTIMUSE_VERSION, content=content)


def generate_library(
    catalog: Catalog,
    folder: str | Path,
    count: int = 48,
    *,
    seed: int = 7,
    size: tuple[int, int] = (1200, 800),
    burst_every: int = 6,
    burst_length: int = 4,
    critiques: bool = True,
    grain: float = 4.0,
    score_model: str | None = DEMO_ARTIMUSE,
    subfolders: Sequence[str] = ("2024-06 Dolomites", "2024-09 Lisbon", "2025-01 Garden"),
) -> list[int]:
    """Write ``count`` JPEGs under ``folder`` (in sub-folders) and catalog rows for them; returns photo ids."""
    rng = random.Random(seed)
    root = Path(folder)
    taken = datetime(2024, 6, 14, 6, 40, 0)
    rows: list[dict[str, Any]] = []
    i = 0
    group = 0
    while i < count:
        directory = root / subfolders[min(len(subfolders) - 1, i * len(subfolders) // max(1, count))]
        directory.mkdir(parents=True, exist_ok=True)
        scene = SCENES[group % len(SCENES)]
        frames = min(burst_length if burst_every and group % burst_every == 1 else 1, count - i)
        camera = rng.choice(CAMERAS)
        for frame in range(frames):
            blur = [0.0, 1.2, 0.4, 2.0][frame % 4] if frames > 1 else 0.0
            image = make_image(scene, seed * 1000 + group, size, shift=frame * 3, blur=blur, grain=grain)
            path = directory / f"DSC{1000 + i:05d}.jpg"
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=88)
            data = buffer.getvalue()
            path.write_bytes(data)
            fields = {"size": len(data), "width": size[0], "height": size[1], "phash": phash(image)}
            fields["fingerprint"] = hashlib.sha256(data).hexdigest()
            rows.append(photo_row(path, **_photo_fields(rng, taken, camera, **fields)))
            taken += timedelta(seconds=0.4) if frames > 1 else timedelta(minutes=rng.randint(2, 90))
            i += 1
        taken += timedelta(minutes=rng.randint(5, 60))
        group += 1
    ids = insert_photos(catalog, rows)
    fingerprints = [row["fingerprint"] for row in rows]
    _save_assessments(catalog, ids, fingerprints, rng, critiques=critiques, artimuse_share=0.9)
    if score_model:
        set_score_model(catalog, score_model)
    return ids


def bulk_catalog(
    catalog: Catalog,
    count: int,
    *,
    seed: int = 1,
    folder: str = "/photos/archive",
    artimuse_share: float = 0.8,
    score_model: str | None = DEMO_ARTIMUSE,
) -> None:
    """``count`` photo rows (no files) with assessments, written in bulk: for start-up and query benchmarks."""
    rng = random.Random(seed)
    taken = datetime(2015, 1, 1, 8, 0, 0)
    previous_hash = rng.getrandbits(64)
    for start in range(0, count, CHUNK):
        rows = []
        for number in range(start + 1, min(count, start + CHUNK) + 1):
            step = rng.choice((0.5, 1, 30, 600, 3600))
            taken += timedelta(seconds=step)
            path = f"{folder}/{taken:%Y}/{taken:%Y-%m}/IMG_{number:06d}.jpg"
            # frames a second apart are a burst: nearly the same perceptual hash
            phash_value = previous_hash ^ (1 << rng.randrange(64)) if step <= 1 else rng.getrandbits(64)
            previous_hash = phash_value
            fields = {
                "size": rng.randint(2_000_000, 12_000_000),
                "width": 6000,
                "height": 4000,
                "phash": f"{phash_value:016x}",
                "fingerprint": hashlib.sha256(path.encode()).hexdigest(),
            }
            rows.append(photo_row(path, **_photo_fields(rng, taken, None, **fields)))
        ids = insert_photos(catalog, rows)
        fingerprints = [row["fingerprint"] for row in rows]
        _save_assessments(catalog, ids, fingerprints, rng, critiques=False, artimuse_share=artimuse_share)
    if score_model:
        set_score_model(catalog, score_model)
