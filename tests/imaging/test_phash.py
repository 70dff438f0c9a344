"""The perceptual hash without SciPy: bit for bit imagehash's ``phash`` on decoded photos, odd modes and the
degenerate images (flat, symmetric) where rounding noise could flip bits; no numpy needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import imagehash
import numpy as np
import pytest
from PIL import Image, ImageDraw

from artimuse_desktop.imaging.decode import decode
from artimuse_desktop.imaging.phash import phash_bits, phash_hex
from tests import scenes
from tests.images import photo_like
from tests.library import imagefactory


def _imagehash(image: Image.Image) -> str:
    return str(imagehash.phash(image))


@pytest.mark.parametrize("scene", scenes.SCENES)
def test_decoded_photos_hash_as_imagehash_does(tmp_path: Path, scene: str) -> None:
    """What the indexer hashes: a JPEG decoded to the grid size by our decoder (real libjpeg, draft mode)."""
    for seed in range(3):
        path = tmp_path / f"{scene}-{seed}.jpg"
        scenes.make_image(scene, seed, size=(900 + 40 * seed, 600)).save(path, "JPEG", quality=88)
        image = decode(path, 320).image
        assert phash_hex(image) == _imagehash(image), path.name
        full = decode(path).image
        assert phash_hex(full) == _imagehash(full), path.name


def test_burst_frames_and_photo_like_images_hash_as_imagehash_does() -> None:
    for seed in range(8):
        image = photo_like(480 + 7 * seed, 320 + 5 * seed, seed=seed)
        assert phash_hex(image) == _imagehash(image)
        frame = scenes.make_image("landscape", seed, size=(640, 427), shift=3, blur=0.8)
        assert phash_hex(frame) == _imagehash(frame)


def test_raw_previews_and_every_image_mode_hash_as_imagehash_does(tmp_path: Path) -> None:
    dng = imagefactory.make_dng(photo_like(600, 400, seed=5), tmp_path / "shot.dng", preview=True)
    decoded = decode(dng, 320).image
    assert phash_hex(decoded) == _imagehash(decoded)
    base = photo_like(300, 200, seed=9)
    for mode in ("L", "LA", "RGBA", "P", "CMYK", "1", "I", "I;16", "F", "YCbCr", "HSV"):
        image = base.convert(mode) if mode not in ("I;16", "HSV") else base.convert("L").convert(mode)
        assert phash_hex(image) == _imagehash(image), mode


def test_flat_and_symmetric_images_hash_as_imagehash_does() -> None:
    """Here most coefficients are exactly zero; scipy's FFT says 0.0, and so must we (not rounding noise)."""
    images = [Image.new("L", (64, 48), value) for value in (0, 9, 128, 255)]
    images.append(Image.new("RGB", (320, 213), (40, 90, 200)))
    ramp = np.tile(np.linspace(0, 255, 96, dtype=np.uint8), (64, 1))
    images.append(Image.fromarray(ramp))
    images.append(Image.fromarray(np.ascontiguousarray(ramp.T)))
    symmetric = Image.new("L", (11, 11), 255)
    draw = ImageDraw.Draw(symmetric)
    draw.rectangle((2, 2, 8, 8), outline=0)
    draw.line((5, 3, 5, 7), fill=0)
    draw.line((3, 5, 7, 5), fill=0)
    images.append(symmetric)
    checker = Image.fromarray(((np.indices((32, 32)).sum(axis=0) % 2) * 255).astype(np.uint8))
    images.append(checker)
    for image in images:
        assert phash_hex(image) == _imagehash(image), (image.mode, image.size)


def test_the_hash_is_64_bits_as_16_hex_digits_row_by_row() -> None:
    image = photo_like(320, 213, seed=2)
    bits = phash_bits(image)
    assert len(bits) == 8 and all(len(row) == 8 and all(isinstance(bit, bool) for bit in row) for row in bits)
    text = phash_hex(image)
    assert len(text) == 16 and int(text, 16) == int("".join("1" if bit else "0" for row in bits for bit in row), 2)
    assert np.array_equal(np.array(bits), imagehash.phash(image).hash)


def test_hashing_imports_no_numpy() -> None:
    """numpy's import cost a fresh ``index`` process ~0.1 s before its first hash."""
    code = (
        "import sys; from PIL import Image; from artimuse_desktop.imaging.phash import phash_hex; "
        "phash_hex(Image.new('RGB', (64, 48), (10, 200, 30))); print('numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
