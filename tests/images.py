"""Photo-like test images made with numpy and Pillow: sky, horizon, textured ground and a subject."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def photo_like(width: int = 1200, height: int = 800, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    horizon = 0.45 + 0.1 * rng.random()
    sky = np.stack([0.35 + 0.3 * y, 0.55 + 0.25 * y, 0.85 + 0.1 * y], axis=-1) * np.ones((1, width, 1), np.float32)
    ground_tex = rng.random((height // 8 + 1, width // 8 + 1)).astype(np.float32)
    ground_tex = np.kron(ground_tex, np.ones((8, 8), np.float32))[:height, :width]
    ground = np.stack([0.25 + 0.3 * ground_tex, 0.35 + 0.3 * ground_tex, 0.15 + 0.1 * ground_tex], axis=-1)
    img = np.where((y > horizon)[..., None], ground, sky)
    cx, cy, r = 0.3 + 0.4 * rng.random(), horizon - 0.05, 0.08 + 0.05 * rng.random()
    subject = ((x - cx) ** 2 * (width / height) ** 2 + (y - cy) ** 2) < r**2
    color = rng.random(3).astype(np.float32)
    img = np.where(subject[..., None], color * 0.8 + 0.1, img)
    img = img + rng.normal(0, 0.01, img.shape).astype(np.float32)
    return Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8), "RGB")


def write_jpeg(path: Path, width: int = 1200, height: int = 800, seed: int = 0, quality: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    photo_like(width, height, seed).save(path, "JPEG", quality=quality)
    return path
