"""A generated sample library: photo-like images and catalog rows with varied scores and decisions.

Used by the screenshots (docs/render_screenshots.py), the start-up and query benchmark (bench/bench_gui.py) and
the GUI tests, so all three exercise the same realistic data: landscapes, sunsets, city nights, forests and
flowers, with bursts of near-identical frames a fraction of a second apart, EXIF-like metadata, technical
measures and ArtiMuse-style attribute scores where some are absent and some experimental.
No Qt here: it only writes files and catalog rows.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.vocabulary import ATTRIBUTES

SCENES = ("landscape", "sunset", "city", "forest", "flower")
CAMERAS = (
    ("Fujifilm", "X-T5", "XF16-55mmF2.8 R LM WR"),
    ("Canon", "EOS R6", "RF24-105mm F4 L IS USM"),
    ("Nikon", "Z 6II", "NIKKOR Z 24-70mm f/4 S"),
    ("Sony", "ILCE-7M4", "FE 35mm F1.8"),
)
DEMO_ARTIMUSE = "artimuse"
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
MEASURES: tuple[tuple[str, str, bool | None, float, float], ...] = (
    ("sharpness", "", True, 40.0, 900.0),
    ("exposure", "EV", None, -1.5, 1.5),
    ("noise", "levels", False, 0.3, 6.0),
    ("highlight_clipping", "%", False, 0.0, 4.0),
    ("tilt", "°", False, 0.0, 3.0),
)


@dataclass(frozen=True)
class DemoPhoto:
    path: str
    captured_at: datetime
    scene: str
    burst: int | None


# --------------------------------------------------------------------------------------------- images


def _palette(rng: random.Random, scene: str) -> dict[str, np.ndarray]:
    def color(*rgb: float) -> np.ndarray:
        return np.array(rgb, dtype=np.float32) / 255.0

    jitter = lambda c: np.clip(c + np.array([rng.uniform(-0.06, 0.06) for _ in range(3)], np.float32), 0, 1)  # noqa: E731
    if scene == "sunset":
        return {
            "top": jitter(color(48, 38, 92)),
            "mid": jitter(color(236, 118, 62)),
            "low": jitter(color(255, 200, 120)),
            "ground": jitter(color(30, 28, 45)),
        }
    if scene == "city":
        return {
            "top": jitter(color(8, 12, 32)),
            "mid": jitter(color(30, 42, 88)),
            "low": jitter(color(90, 70, 110)),
            "ground": jitter(color(12, 12, 18)),
        }
    if scene == "forest":
        return {
            "top": jitter(color(170, 200, 160)),
            "mid": jitter(color(70, 110, 60)),
            "low": jitter(color(40, 70, 35)),
            "ground": jitter(color(55, 42, 30)),
        }
    if scene == "flower":
        return {
            "top": jitter(color(60, 90, 50)),
            "mid": jitter(color(120, 150, 80)),
            "low": jitter(color(30, 50, 30)),
            "ground": jitter(color(230, 80, 120)),
        }
    return {
        "top": jitter(color(70, 120, 190)),
        "mid": jitter(color(170, 200, 230)),
        "low": jitter(color(235, 225, 210)),
        "ground": jitter(color(60, 80, 55)),
    }


def _sky(h: int, w: int, pal: dict[str, np.ndarray], horizon: float) -> np.ndarray:
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    t = np.clip(y / max(0.05, horizon), 0, 1)
    upper = pal["top"] * (1 - t) + pal["mid"] * t
    lower_t = np.clip((t - 0.6) / 0.4, 0, 1)
    sky = upper * (1 - lower_t) + pal["low"] * lower_t
    return np.broadcast_to(sky, (h, w, 3)).copy()


def _ridge(w: int, rng: random.Random, base: float, amplitude: float) -> np.ndarray:
    x = np.linspace(0, 1, w, dtype=np.float32)
    line = np.full(w, base, dtype=np.float32)
    for k in range(1, 6):
        line += amplitude / k * np.sin(2 * math.pi * (k * rng.uniform(0.5, 1.6) * x + rng.random())).astype(np.float32)
    return line


def make_image(
    scene: str,
    seed: int,
    size: tuple[int, int] = (1200, 800),
    shift: int = 0,
    blur: float = 0.0,
    grain: float = 4.0,
) -> Image.Image:
    """A photo-like picture of ``scene``; ``shift``/``blur`` make burst frames of the same seed differ a little,
    ``grain`` is sensor-like noise (8-bit levels)."""
    rng = random.Random(seed)
    w, h = size
    pal = _palette(rng, scene)
    horizon = rng.uniform(0.5, 0.68)
    img = _sky(h, w, pal, horizon)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if scene in ("landscape", "sunset"):
        sx, sy = rng.uniform(0.25, 0.75) * w, horizon * h * rng.uniform(0.55, 0.9)
        glow = np.exp(-(((xx - sx) ** 2 + (yy - sy) ** 2) / (2 * (0.12 * w) ** 2)))[..., None]
        img = img + glow * (pal["low"] * 0.8 + 0.2) * (0.9 if scene == "sunset" else 0.5)
        disc = (((xx - sx) ** 2 + (yy - sy) ** 2) < (0.03 * w) ** 2)[..., None]
        img = np.where(disc, np.array([1.0, 0.95, 0.85], np.float32), img)
        layers = 4 if scene == "landscape" else 2
        for i in range(layers):
            depth = i / max(1, layers - 1)
            ridge = _ridge(w, rng, horizon + 0.02 + depth * 0.18, 0.08 * (1 - 0.5 * depth)) * h
            mask = (yy > ridge[None, :])[..., None]
            shade = pal["ground"] * (0.55 + 0.45 * depth) + (1 - depth) * 0.35 * pal["mid"]
            if scene == "sunset":
                shade = pal["ground"] * (0.4 + 0.6 * depth)
            img = np.where(mask, shade, img)
        if scene == "sunset":
            sea = yy > horizon * h + 0.2 * h
            streak = 0.5 + 0.5 * np.sin(yy * 0.9 + np.sin(xx * 0.02) * 3)
            reflect = np.exp(-((xx - sx) ** 2) / (2 * (0.05 * w) ** 2)) * streak
            img = np.where(sea[..., None], img * 0.6 + reflect[..., None] * pal["low"] * 0.6, img)
    elif scene == "city":
        x = 0
        while x < w:
            bw = rng.randint(w // 30, w // 10)
            bh = int(h * rng.uniform(0.25, 0.65))
            top = h - bh
            tone = pal["ground"] + rng.uniform(0, 0.08)
            img[top:, x : x + bw] = tone
            for wy in range(top + 8, h - 6, 14):
                for wx in range(x + 5, x + bw - 6, 11):
                    if rng.random() < 0.35:
                        img[wy : wy + 6, wx : wx + 5] = np.array([1.0, 0.85, 0.5]) * rng.uniform(0.6, 1.0)
            x += bw + rng.randint(0, 6)
    elif scene == "forest":
        img = img * 0.85
        for _ in range(rng.randint(14, 24)):
            cx = rng.uniform(0, w)
            width = rng.uniform(0.01, 0.05) * w
            tone = pal["ground"] * rng.uniform(0.5, 1.1)
            trunk = (np.abs(xx - cx) < width / 2)[..., None]
            img = np.where(trunk, tone, img)
        rays = np.clip(np.sin((xx + yy * 0.4) * 0.01 + rng.random() * 6), 0, 1) ** 6 * 0.25
        img = img + rays[..., None] * np.array([1.0, 0.95, 0.7], np.float32)
        floor = (yy > h * 0.82)[..., None]
        img = np.where(floor, pal["low"] * 0.8, img)
    img = np.clip(img, 0, 1)
    image = Image.fromarray((img * 255).astype(np.uint8), "RGB")
    if scene == "flower":
        image = _flower(image, rng)
    noise = np.random.default_rng(seed).normal(0, grain, (h, w, 3)) if grain > 0 else 0.0
    arr = np.clip(np.asarray(image, np.float32) + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(arr, "RGB")
    if shift:
        image = Image.fromarray(np.roll(np.asarray(image), shift, axis=1))
    if blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return image


def _flower(image: Image.Image, rng: random.Random) -> Image.Image:
    w, h = image.size
    bokeh = Image.new("RGB", image.size)
    bokeh.paste(image)
    draw = ImageDraw.Draw(bokeh)
    for _ in range(40):
        r = rng.uniform(0.02, 0.07) * w
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        tone = tuple(int(c) for c in (rng.uniform(120, 255), rng.uniform(150, 255), rng.uniform(80, 200)))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tone)
    background = Image.blend(image, bokeh.filter(ImageFilter.GaussianBlur(w / 60)), 0.6)
    draw = ImageDraw.Draw(background)
    cx, cy = rng.uniform(0.35, 0.65) * w, rng.uniform(0.4, 0.6) * h
    petal = rng.uniform(0.08, 0.12) * w
    hue = (rng.randint(200, 255), rng.randint(60, 160), rng.randint(90, 200))
    for k in range(8):
        angle = k * math.pi / 4 + rng.random() * 0.2
        px, py = cx + math.cos(angle) * petal * 0.8, cy + math.sin(angle) * petal * 0.8
        draw.ellipse((px - petal * 0.55, py - petal * 0.55, px + petal * 0.55, py + petal * 0.55), fill=hue)
    draw.ellipse((cx - petal * 0.35, cy - petal * 0.35, cx + petal * 0.35, cy + petal * 0.35), fill=(250, 200, 60))
    return background


def _phash(image: Image.Image) -> str:
    import imagehash

    return str(imagehash.phash(image))


# --------------------------------------------------------------------------------------------- catalog rows


def _photo_row(
    rng: random.Random,
    pid: int | None,
    path: str,
    size: int,
    taken: datetime,
    width: int,
    height: int,
    phash: str | None,
    fingerprint: str,
    camera: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    make, model, lens = camera or rng.choice(CAMERAS)
    flag = rng.choices((0, 1, -1), (0.7, 0.18, 0.12))[0]
    row: dict[str, Any] = {
        "root_id": None,
        "path": path,
        "folder": os.path.dirname(path),
        "filename": os.path.basename(path),
        "size": size,
        "mtime": taken.timestamp(),
        "fingerprint": fingerprint,
        "format": "JPEG",
        "width": width,
        "height": height,
        "orientation": 1,
        "captured_at": taken,
        "camera_make": make,
        "camera_model": model,
        "lens": lens,
        "focal_length": float(rng.choice((16, 23, 35, 50, 85, 105))),
        "aperture": rng.choice((1.8, 2.8, 4.0, 5.6, 8.0, 11.0)),
        "shutter": rng.choice((1 / 1000, 1 / 500, 1 / 250, 1 / 125, 1 / 60, 1 / 15, 0.5)),
        "iso": rng.choice((100, 200, 400, 800, 1600, 3200)),
        "phash": phash,
        "status": "ok",
        "indexed_at": datetime.now(),
        "flag": flag,
        "rating": rng.choices((0, 1, 2, 3, 4, 5), (0.55, 0.08, 0.12, 0.13, 0.08, 0.04))[0],
        "color_label": rng.choices((None, "red", "yellow", "green", "blue"), (0.8, 0.05, 0.05, 0.05, 0.05))[0],
        "decided_at": None,
    }
    if pid is not None:
        row["id"] = pid
    return row


def _quality(rng: random.Random) -> float:
    return min(96.0, max(12.0, rng.gauss(58, 15)))


def _insert_assessments(
    session: Any,
    photo_ids: Sequence[int],
    rng: random.Random,
    *,
    critiques: bool,
    artimuse_share: float = 1.0,
    next_id: int | None = None,
) -> None:
    """Technical measures for every photo, ArtiMuse-style scores for ``artimuse_share`` of them (bulk)."""
    from sqlalchemy import func, insert, select

    from artimuse_desktop.catalog.models import Assessment, AttributeScore, MeasureValue

    now = datetime.now()
    if next_id is None:
        next_id = int(session.execute(select(func.max(Assessment.id))).scalar() or 0) + 1
    assessments: list[dict[str, Any]] = []
    attributes: list[dict[str, Any]] = []
    measures: list[dict[str, Any]] = []
    aid = next_id
    for pid in photo_ids:
        quality = _quality(rng)
        tech = min(99.0, max(5.0, quality + rng.gauss(0, 9)))
        assessments.append(
            {
                "id": aid,
                "photo_id": pid,
                "model": "technical",
                "model_version": "1.0",
                "fingerprint": None,
                "score": round(tech, 1),
                "error": None,
                "created_at": now,
                "current": True,
            }
        )
        for name, unit, better, low, high in MEASURES:
            value = rng.uniform(low, high)
            note = None
            if name == "sharpness":
                note = "Crisp detail at 100 %" if value > 400 else "Soft: check focus or motion blur"
            elif name == "highlight_clipping" and value > 2:
                note = "Clipped highlights in the sky"
            measures.append(
                {
                    "assessment_id": aid,
                    "name": name,
                    "value": round(value, 3),
                    "unit": unit,
                    "higher_is_better": better,
                    "note": note,
                }
            )
        aid += 1
        if rng.random() > artimuse_share:
            continue
        assessments.append(
            {
                "id": aid,
                "photo_id": pid,
                "model": DEMO_ARTIMUSE,
                "model_version": "demo-1",
                "fingerprint": None,
                "score": round(quality, 1),
                "error": None,
                "created_at": now,
                "current": True,
            }
        )
        for index, attribute in enumerate(ATTRIBUTES):
            if attribute == "Originality & Creativity" and rng.random() < 0.4:
                continue  # absent: shown as "—", never as 0
            score = round(min(99.0, max(5.0, quality + rng.gauss(0, 8))), 1)
            critique = None
            if critiques and attribute in CRITIQUES:
                critique = rng.choice(CRITIQUES[attribute])
            attributes.append(
                {
                    "assessment_id": aid,
                    "attribute": attribute,
                    "score": score,
                    "critique": critique,
                    "experimental": index >= 6,
                    "critique_model": DEMO_ARTIMUSE if critique else None,
                    "critique_at": now if critique else None,
                }
            )
        aid += 1
    for start in range(0, len(assessments), 5000):
        session.execute(insert(Assessment), assessments[start : start + 5000])
    for start in range(0, len(attributes), 5000):
        session.execute(insert(AttributeScore), attributes[start : start + 5000])
    for start in range(0, len(measures), 5000):
        session.execute(insert(MeasureValue), measures[start : start + 5000])


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
    from sqlalchemy import insert, select

    from artimuse_desktop.catalog.models import Photo
    from artimuse_desktop.catalog.queries import set_score_model

    rng = random.Random(seed)
    root = Path(folder)
    taken = datetime(2024, 6, 14, 6, 40, 0)
    rows: list[dict[str, Any]] = []
    i = 0
    group = 0
    while i < count:
        sub = subfolders[min(len(subfolders) - 1, i * len(subfolders) // max(1, count))]
        directory = root / sub
        directory.mkdir(parents=True, exist_ok=True)
        scene = SCENES[group % len(SCENES)]
        scene_seed = seed * 1000 + group
        frames = burst_length if burst_every and group % burst_every == 1 else 1
        frames = min(frames, count - i)
        camera = rng.choice(CAMERAS)
        for frame in range(frames):
            blur = [0.0, 1.2, 0.4, 2.0][frame % 4] if frames > 1 else 0.0
            image = make_image(scene, scene_seed, size, shift=frame * 3, blur=blur, grain=grain)
            name = f"DSC{1000 + i:05d}.jpg"
            path = directory / name
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=88)
            data = buffer.getvalue()
            path.write_bytes(data)
            rows.append(
                _photo_row(
                    rng,
                    None,
                    str(path),
                    len(data),
                    taken,
                    size[0],
                    size[1],
                    _phash(image),
                    hashlib.sha256(data).hexdigest(),
                    camera,
                )
            )
            taken += timedelta(seconds=0.4) if frames > 1 else timedelta(minutes=rng.randint(2, 90))
            i += 1
        taken += timedelta(minutes=rng.randint(5, 60))
        group += 1
    with catalog.write() as session:
        session.execute(insert(Photo), rows)
        paths = [r["path"] for r in rows]
        ids = [pid for (pid,) in session.execute(select(Photo.id).where(Photo.path.in_(paths)).order_by(Photo.id))]
        _insert_assessments(session, ids, rng, critiques=critiques, artimuse_share=0.9)
        if score_model:
            set_score_model(session, score_model)
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
    """``count`` photo rows (no files) with assessments, inserted in bulk: for start-up and query benchmarks."""
    from sqlalchemy import insert

    from artimuse_desktop.catalog.models import Photo
    from artimuse_desktop.catalog.queries import set_score_model

    rng = random.Random(seed)
    taken = datetime(2015, 1, 1, 8, 0, 0)
    chunk = 10_000
    next_assessment = 1
    previous_hash = rng.getrandbits(64)
    for start in range(0, count, chunk):
        rows = []
        ids = list(range(start + 1, min(count, start + chunk) + 1))
        for pid in ids:
            step = rng.choice((0.5, 1, 30, 600, 3600))
            taken += timedelta(seconds=step)
            sub = f"{taken:%Y}/{taken:%Y-%m}"
            path = f"{folder}/{sub}/IMG_{pid:06d}.jpg"
            # frames a second apart are a burst: nearly the same perceptual hash
            phash_value = previous_hash ^ (1 << rng.randrange(64)) if step <= 1 else rng.getrandbits(64)
            previous_hash = phash_value
            phash = f"{phash_value:016x}"
            rows.append(
                _photo_row(
                    rng,
                    pid,
                    path,
                    rng.randint(2_000_000, 12_000_000),
                    taken,
                    6000,
                    4000,
                    phash,
                    hashlib.sha256(path.encode()).hexdigest(),
                )
            )
        with catalog.write() as session:
            session.execute(insert(Photo), rows)
            _insert_assessments(
                session, ids, rng, critiques=False, artimuse_share=artimuse_share, next_id=next_assessment
            )
        next_assessment += len(ids) * 2 + 1
    if score_model:
        with catalog.write() as session:
            set_score_model(session, score_model)
