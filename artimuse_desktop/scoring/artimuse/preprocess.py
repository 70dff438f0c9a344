"""Image preprocessing exactly as the authors' evaluation code: one 448x448 tile, PIL bicubic, ImageNet stats.

PIL's bicubic (with its own antialiasing) is part of the model's input distribution: a tensor-based resize
gives visibly different pixels, so the resize stays in Pillow, and the rest is plain numpy (no torchvision).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

INPUT_SIZE = 448
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


def preprocess(image: Image.Image, size: int = INPUT_SIZE) -> np.ndarray:
    """PIL image -> normalised float32 ``[3, size, size]``; the aspect ratio is not kept (as trained)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    resized = rgb.resize((size, size), Image.Resampling.BICUBIC)
    # Same float32 arithmetic as torchvision's ToTensor + Normalize: x/255, then (x - mean) / std.
    array = np.asarray(resized, dtype=np.uint8).astype(np.float32) / np.float32(255.0)
    array = array.transpose(2, 0, 1)
    mean = np.asarray(IMAGENET_MEAN, dtype=np.float32).reshape(3, 1, 1)
    std = np.asarray(IMAGENET_STD, dtype=np.float32).reshape(3, 1, 1)
    return np.ascontiguousarray((array - mean) / std, dtype=np.float32)


def preprocess_path(path: str) -> np.ndarray:
    """The reference pipeline on a file: ``Image.open(path).convert("RGB")``, no EXIF rotation."""
    with Image.open(path) as image:
        return preprocess(image.convert("RGB"))
