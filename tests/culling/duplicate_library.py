"""A small library of real photographs with the duplicates a real one collects, written to disk for the
indexer: byte copies, re-encodes at other qualities and sizes, an edit, a crop (NOT a duplicate), RAW+JPEG.

The photographs are the ones scikit-image ships (Hubble's coffee cup, Chelsea the cat, the astronaut, the
rocket), decoded by Pillow; the RAW is a real DNG that LibRaw decodes (``imagefactory.make_dng``). Shared by
the culling and the command-line tests.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageEnhance

from tests.library import imagefactory as images


def real_photo(name: str) -> Image.Image:
    """One of scikit-image's sample photographs, as RGB."""
    skimage_data = pytest.importorskip("skimage.data")
    folder = Path(skimage_data.__file__).parent
    with Image.open(folder / name) as image:
        return image.convert("RGB")


def _jpeg(image: Image.Image, path: Path, quality: int = 92) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=quality)
    return path


@dataclass(frozen=True)
class Library:
    root: Path
    original: Path  # shoot/DSC_0001.JPG, the camera's file
    byte_copy: Path  # shoot/DSC_0001 (2).JPG, the same bytes
    web_export: Path  # Exports/Web/DSC_0001.jpg, resized to 40 % at quality 75
    low_quality: Path  # shoot/DSC_0001 copy.jpg, re-encoded at quality 40
    brightened: Path  # edits/DSC_0001-Edit.jpg, +15 % brightness
    crop: Path  # shoot/DSC_0001_crop.jpg, the central 80 %: another picture
    cat_jpeg: Path  # cat/IMG_2000.JPG
    cat_raw: Path  # cat/IMG_2000.DNG
    loners: tuple[Path, ...]  # photos with no duplicate

    @property
    def coffee_group(self) -> set[Path]:
        return {self.original, self.byte_copy, self.web_export, self.low_quality, self.brightened}


def write_library(root: Path) -> Library:
    coffee = real_photo("coffee.png")
    original = _jpeg(coffee, root / "shoot" / "DSC_0001.JPG")
    byte_copy = root / "shoot" / "DSC_0001 (2).JPG"
    shutil.copyfile(original, byte_copy)
    width, height = coffee.size
    web_export = _jpeg(coffee.resize((width * 2 // 5, height * 2 // 5)), root / "Exports" / "Web" / "DSC_0001.jpg", 75)
    low_quality = _jpeg(coffee, root / "shoot" / "DSC_0001 copy.jpg", 40)
    brightened = _jpeg(ImageEnhance.Brightness(coffee).enhance(1.15), root / "edits" / "DSC_0001-Edit.jpg", 85)
    crop_box = (width // 10, height // 10, width * 9 // 10, height * 9 // 10)
    crop = _jpeg(coffee.crop(crop_box), root / "shoot" / "DSC_0001_crop.jpg")
    cat = real_photo("chelsea.png")
    cat_jpeg = _jpeg(cat, root / "cat" / "IMG_2000.JPG")
    cat_raw = images.make_dng(cat, root / "cat" / "IMG_2000.DNG")
    loners = (
        _jpeg(real_photo("astronaut.png"), root / "other" / "astronaut.jpg"),
        _jpeg(real_photo("rocket.jpg"), root / "other" / "rocket.jpg"),
    )
    return Library(root, original, byte_copy, web_export, low_quality, brightened, crop, cat_jpeg, cat_raw, loners)
