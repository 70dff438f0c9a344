"""Photo-like scenes for the demo library: landscapes, sunsets, city nights, forests and flowers.

Burst frames are the same scene with a small shift or blur. Numpy and Pillow only: no Qt, no catalog.
"""

from __future__ import annotations

import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SCENES = ("landscape", "sunset", "city", "forest", "flower")


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


def phash(image: Image.Image) -> str:
    """The perceptual hash the indexer stores (bursts are grouped by it)."""
    import imagehash

    return str(imagehash.phash(image))
