"""EXIF orientation helpers agree with Pillow's reference implementation and with LibRaw's flip codes."""

from __future__ import annotations

import pytest
from PIL import Image, ImageOps

from artimuse_desktop.imaging import orientation as o
from tests.library import imagefactory as images


@pytest.mark.parametrize("value", range(1, 9))
def test_apply_orientation_matches_pillow_exif_transpose(value: int) -> None:
    stored = images.stored_for_orientation(images.marker_image(30, 20), value)
    ours = o.apply_orientation(stored, value)
    exif = Image.Exif()
    exif[0x0112] = value
    tagged = stored.copy()
    tagged.info["exif"] = exif.tobytes()
    reference = ImageOps.exif_transpose(tagged)
    assert ours.tobytes() == reference.tobytes()
    assert images.marker_corner(ours) == "tl"


@pytest.mark.parametrize("value", [None, 0, 9, "x", -1, 1])
def test_nonsense_means_no_change(value: object) -> None:
    image = images.marker_image(30, 20)
    assert o.apply_orientation(image, value) is image  # type: ignore[arg-type]
    assert o.normalize(value) == 1


def test_flip_codes_map_to_exif() -> None:
    assert [o.flip_to_orientation(flip) for flip in range(8)] == [1, 2, 4, 3, 5, 8, 6, 7]
    assert o.flip_to_orientation(None) == 1


@pytest.mark.parametrize("applied", range(1, 9))
@pytest.mark.parametrize("wanted", range(1, 9))
def test_relative_orientation_composes(applied: int, wanted: int) -> None:
    stored = images.marker_image(30, 20)
    shown = o.apply_orientation(stored, applied)
    moved = o.apply_orientation(shown, o.relative_orientation(applied, wanted))
    assert moved.tobytes() == o.apply_orientation(stored, wanted).tobytes()


def test_oriented_size() -> None:
    assert o.oriented_size(300, 200, 6) == (200, 300)
    assert o.oriented_size(300, 200, 3) == (300, 200)
    assert o.swaps_dimensions(8) and not o.swaps_dimensions(2)
