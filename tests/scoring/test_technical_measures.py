"""The technical analyzer's measures move the right way on controlled edits of a photo-like scene.

Every image here is real pixels: a synthetic landscape (sky with clouds, a textured field, buildings on a
horizon, a detailed subject) saved as JPEG and read back, then edited the way cameras fail: defocus, grain,
over-exposure, a tilted horizon, camera shake, a white-balance cast.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageFilter

from artimuse_desktop.scoring.technical import composition, detail, exposure, notes
from artimuse_desktop.scoring.technical import measures as m
from artimuse_desktop.scoring.technical.saliency import salient_center, spectral_residual
from artimuse_desktop.vocabulary import ATTRIBUTES

Array = npt.NDArray[np.float32]


# ------------------------------------------------------------------------------------------ test images


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> Array:
    """Random field upsampled with bicubic: cloud or terrain-like texture at a chosen grain."""
    small = rng.random((max(2, h * cells // w), cells)).astype(np.float32)
    return np.asarray(Image.fromarray(small, mode="F").resize((w, h), Image.Resampling.BICUBIC), np.float32)


def scene(
    w: int = 768,
    h: int = 512,
    horizon: float = 0.55,
    subject: tuple[float, float] = (0.62, 0.4),
    subject_r: float = 0.08,
    seed: int = 0,
) -> Image.Image:
    """A landscape: graded sky, clouds, textured field, windowed buildings, a detailed ball as subject."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = yy / h
    sky = np.stack([0.45 + 0.3 * t, 0.6 + 0.25 * t, 0.9 + 0.05 * t], axis=-1)
    puff = _smooth_noise(rng, h, w, 12)
    cover = np.clip((puff - 0.5) * 3.0, 0.0, 0.85)[..., None]  # white-grey clouds, neutral like real ones
    img = sky * (1.0 - cover) + (0.8 + 0.15 * puff)[..., None] * cover
    tex = (
        _smooth_noise(rng, h, w, 40) * 0.25
        + _smooth_noise(rng, h, w, 160) * 0.2
        + rng.random((h, w)).astype(np.float32) * 0.1
    )
    ground = np.stack([0.25 + tex * 0.9, 0.38 + tex * 0.9, 0.12 + tex * 0.4], axis=-1)
    img = np.where((yy >= horizon * h)[..., None], ground, img)
    for x0, bw, bh in ((0.08, 0.07, 0.18), (0.2, 0.05, 0.1), (0.8, 0.09, 0.22)):
        xs, xe = int(x0 * w), int((x0 + bw) * w)
        ys, ye = int((horizon - bh) * h), int(horizon * h)
        block = img[ys:ye, xs:xe]
        block[:] = (0.55, 0.5, 0.48)
        windows = ((xx[ys:ye, xs:xe] // 6) % 2 == 0) & ((yy[ys:ye, xs:xe] // 8) % 2 == 0)
        block[windows] = (0.2, 0.22, 0.3)
    cx, cy, r = subject[0] * w, subject[1] * h, subject_r * w
    disc = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    stripes = np.sin((xx + yy) / 3.0) > 0
    img[disc] = np.where(stripes[disc][:, None], (0.85, 0.15, 0.1), (0.95, 0.85, 0.2))
    return to_image(img)


def plain_with_subject(centre: tuple[float, float], w: int = 768, h: int = 512) -> Image.Image:
    """A calm, softly graded backdrop with one bright, detailed subject: the setting for thirds placement."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.35 + 0.1 * yy / h + _smooth_noise(rng, h, w, 6) * 0.05
    img = np.stack([base, base * 0.95, base * 0.9], axis=-1)
    r = 0.06 * w
    disc = (xx - centre[0] * w) ** 2 + (yy - centre[1] * h) ** 2 <= r * r
    checks = ((xx // 4 + yy // 4) % 2).astype(np.float32)
    img[disc] = np.stack([0.9 - 0.3 * checks, 0.75 - 0.5 * checks, 0.2 + 0.1 * checks], axis=-1)[disc]
    return to_image(img)


def to_image(a: npt.ArrayLike) -> Image.Image:
    return Image.fromarray((np.clip(np.asarray(a, np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), "RGB")


def jpeg_roundtrip(image: Image.Image, quality: int = 92) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as reopened:
        return reopened.convert("RGB")


def analysis_array(image: Image.Image) -> Array:
    """What the backend measures: the photo as JPEG, read back and fitted to 512 px."""
    photo = jpeg_roundtrip(image)
    scale = 512 / max(photo.size)
    photo = photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.Resampling.BILINEAR)
    return np.asarray(photo, dtype=np.uint8).astype(np.float32) / 255.0


def motion_smear(image: Image.Image, length: int, vertical: bool = False) -> Image.Image:
    """A linear camera-shake blur: the mean of ``length`` shifted copies along one axis."""
    a = np.asarray(image, np.float32)
    acc = np.zeros_like(a)
    for i in range(length):
        acc += np.roll(a, i - length // 2, axis=0 if vertical else 1)
    return to_image(acc / length / 255.0)


def rotated(image: Image.Image, degrees: float) -> Image.Image:
    """Counter-clockwise rotation, cropped so no empty corners remain."""
    turned = image.rotate(degrees, resample=Image.Resampling.BICUBIC)
    return turned.crop((60, 60, turned.width - 60, turned.height - 60))


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return scene()


@pytest.fixture(scope="module")
def base(photo: Image.Image) -> m.Analysis:
    return m.analyze(analysis_array(photo))


# ---------------------------------------------------------------------------------------------- sharpness


def test_gaussian_blur_lowers_sharpness(photo: Image.Image, base: m.Analysis) -> None:
    soft = m.analyze(analysis_array(photo.filter(ImageFilter.GaussianBlur(3))))
    assert soft.sharpness.overall < base.sharpness.overall / 5
    assert soft.sharpness.region < base.sharpness.region / 5
    assert soft.sharpness.region_ratio < base.sharpness.region_ratio
    assert notes.sub_scores(soft).sharpness < notes.sub_scores(base).sharpness - 30


def test_sharp_subject_on_a_blurred_background_keeps_its_region_sharp(photo: Image.Image) -> None:
    subject = (0.62, 0.4)
    w, h = photo.size
    yy, xx = np.mgrid[0:h, 0:w]
    r = 0.08 * w
    disc = ((xx - subject[0] * w) ** 2 + (yy - subject[1] * h) ** 2 <= r * r)[..., None]
    background = np.asarray(photo.filter(ImageFilter.GaussianBlur(4)), np.float32)
    portrait = to_image(np.where(disc, np.asarray(photo, np.float32), background) / 255.0)
    all_soft = to_image(background / 255.0)

    sharp = m.analyze(analysis_array(photo)).sharpness
    mixed = m.analyze(analysis_array(portrait)).sharpness
    soft = m.analyze(analysis_array(all_soft)).sharpness
    assert mixed.overall < sharp.overall / 2  # most of the frame went soft ...
    assert mixed.region > 0.5 * sharp.region  # ... but the subject did not
    assert mixed.region > 10 * soft.region
    assert abs(mixed.region_center[0] - subject[0]) < 0.15 and abs(mixed.region_center[1] - subject[1]) < 0.2


def test_grain_does_not_pass_for_detail(photo: Image.Image) -> None:
    soft = photo.filter(ImageFilter.GaussianBlur(3))
    rng = np.random.default_rng(1)
    grainy = to_image(np.asarray(soft, np.float32) / 255.0 + rng.normal(0, 8 / 255, (photo.height, photo.width, 1)))
    clean_score = notes.sub_scores(m.analyze(analysis_array(soft))).sharpness
    grainy_score = notes.sub_scores(m.analyze(analysis_array(grainy))).sharpness
    assert grainy_score < clean_score + 15
    assert grainy_score < 50


def test_motion_blur_raises_the_hint_and_finds_its_direction(photo: Image.Image, base: m.Analysis) -> None:
    horizontal = m.analyze(analysis_array(motion_smear(photo, 15))).motion
    vertical = m.analyze(analysis_array(motion_smear(photo, 15, vertical=True))).motion
    assert base.motion.anisotropy < 0.25
    assert horizontal.anisotropy > base.motion.anisotropy + 0.08
    assert vertical.anisotropy > base.motion.anisotropy + 0.08
    assert horizontal.weakest_ratio < 0.7 * base.motion.weakest_ratio
    assert min(horizontal.direction_deg, 180 - horizontal.direction_deg) < 25
    assert abs(vertical.direction_deg - 90) < 25
    defocus = m.analyze(analysis_array(photo.filter(ImageFilter.GaussianBlur(3)))).motion
    assert defocus.anisotropy < horizontal.anisotropy  # an even blur is not a smear


# ------------------------------------------------------------------------------------ noise and exposure


def test_added_noise_raises_the_noise_estimate(photo: Image.Image, base: m.Analysis) -> None:
    rng = np.random.default_rng(2)
    noisy = to_image(np.asarray(photo, np.float32) / 255.0 + rng.normal(0, 12 / 255, (photo.height, photo.width, 3)))
    measured = m.analyze(analysis_array(noisy)).noise
    assert base.noise < 1.0
    assert measured > base.noise + 1.5  # grain added at 768 px, measured at 512 px after JPEG
    heavy = to_image(np.asarray(photo, np.float32) / 255.0 + rng.normal(0, 30 / 255, (photo.height, photo.width, 3)))
    assert notes.sub_scores(m.analyze(analysis_array(heavy))).noise < notes.sub_scores(base).noise - 15


def test_immerkaer_estimate_is_calibrated_on_pure_noise() -> None:
    rng = np.random.default_rng(3)
    flat = np.full((300, 400), 120.0, np.float32) + rng.normal(0, 6.0, (300, 400)).astype(np.float32)
    assert detail.noise_sigma(flat) == pytest.approx(6.0, rel=0.1)


def test_overexposure_raises_highlight_clipping(photo: Image.Image, base: m.Analysis) -> None:
    bright = to_image(np.asarray(photo, np.float32) / 255.0 * 2.0)
    over = m.analyze(analysis_array(bright))
    assert base.tones.highlights_clipped < 0.01
    assert over.tones.highlights_clipped > 0.25
    assert over.tones.mean_luma > base.tones.mean_luma + 40
    assert notes.sub_scores(over).exposure < notes.sub_scores(base).exposure - 40
    dark = m.analyze(analysis_array(to_image(np.asarray(photo, np.float32) / 255.0 * 0.03)))
    assert dark.tones.shadows_clipped > 0.2 and dark.tones.mean_luma < 20


def test_tones_read_a_known_histogram() -> None:
    y = np.zeros((100, 100), np.float32)
    y[:, :10] = 255.0  # 10 % white
    y[:, 10:30] = 0.0  # 20 % black
    y[:, 30:] = 128.0
    tones = exposure.tones(y)
    assert tones.highlights_clipped == pytest.approx(0.10)
    assert tones.shadows_clipped == pytest.approx(0.20)
    assert tones.tonal_range == 255.0


# -------------------------------------------------------------------------------------------------- colour


def test_a_colour_cast_raises_the_cast_measure(photo: Image.Image, base: m.Analysis) -> None:
    warm = to_image(np.asarray(photo, np.float32) / 255.0 * np.array([1.3, 1.0, 1.0], np.float32))
    cast = m.analyze(analysis_array(warm)).cast
    assert cast.strength > base.cast.strength + 5
    assert cast.hue_deg < 75 or cast.hue_deg > 330  # towards red / orange in the a*b* plane
    assert cast.name in {"red", "warm orange", "magenta"}


def test_a_grey_image_has_no_colourfulness_and_no_cast(photo: Image.Image, base: m.Analysis) -> None:
    grey = m.analyze(analysis_array(photo.convert("L").convert("RGB")))
    assert grey.colourfulness < 1.0
    assert grey.cast.strength < 1.0
    assert base.colourfulness > 30


# ------------------------------------------------------------------------------------------ tilt, thirds


def test_rotating_the_frame_raises_the_tilt(photo: Image.Image) -> None:
    level = m.analyze(analysis_array(rotated(photo, 0))).tilt
    left_up = m.analyze(analysis_array(rotated(photo, 3))).tilt
    right_up = m.analyze(analysis_array(rotated(photo, -5))).tilt
    assert level.found and abs(level.degrees) < 0.5
    assert left_up.found and left_up.degrees == pytest.approx(3.0, abs=0.6)  # Pillow turns counter-clockwise
    assert right_up.found and right_up.degrees == pytest.approx(-5.0, abs=0.6)


def test_no_horizon_is_reported_as_not_found() -> None:
    rng = np.random.default_rng(4)
    clutter = rng.random((341, 512)).astype(np.float32) * 255.0
    assert not composition.horizon_tilt(clutter).found


def test_subject_on_a_thirds_point_beats_one_in_the_corner() -> None:
    on_thirds = m.analyze(analysis_array(plain_with_subject((1 / 3, 1 / 3))))
    in_corner = m.analyze(analysis_array(plain_with_subject((0.1, 0.1))))
    assert on_thirds.placement.center == pytest.approx((1 / 3, 1 / 3), abs=0.06)
    assert on_thirds.placement.thirds_distance < 0.05
    assert in_corner.placement.thirds_distance > 0.2
    assert on_thirds.placement.confidence > 0.5 and in_corner.placement.confidence > 0.5
    assert notes.sub_scores(on_thirds).placement > notes.sub_scores(in_corner).placement + 20


def test_thirds_distance_formula() -> None:
    assert composition.thirds_distance(1 / 3, 2 / 3, 600, 400) == pytest.approx(0.0)
    assert composition.thirds_distance(0.5, 0.5, 600, 400) == pytest.approx(1 / 6)
    assert composition.thirds_distance(0.0, 0.0, 600, 400) == pytest.approx(1 / 3)


def test_saliency_marks_an_odd_one_out() -> None:
    y = np.full((256, 384), 90.0, np.float32)
    y[150:180, 250:280] = 230.0
    centre = salient_center(spectral_residual(y))
    assert centre.x == pytest.approx(265 / 384, abs=0.05) and centre.y == pytest.approx(165 / 256, abs=0.05)


# ------------------------------------------------------------------------------------ scores and notes


def test_scores_rank_a_good_photo_above_its_flawed_copies(photo: Image.Image, base: m.Analysis) -> None:
    good = notes.build_result(base)
    blurred = notes.build_result(m.analyze(analysis_array(photo.filter(ImageFilter.GaussianBlur(3)))))
    blown = notes.build_result(m.analyze(analysis_array(to_image(np.asarray(photo, np.float32) / 255.0 * 2.0))))
    assert good.score is not None and blurred.score is not None and blown.score is not None
    assert good.score >= 75
    assert blurred.score < good.score - 20
    assert blown.score < good.score - 25


def test_result_holds_only_the_attributes_it_measures(base: m.Analysis) -> None:
    result = notes.build_result(base)
    assert [a.attribute for a in result.attributes] == ["Technical Execution", "Composition & Design"]
    assert all(a.attribute in ATTRIBUTES for a in result.attributes)
    assert all(a.score is not None and 0 <= a.score <= 100 for a in result.attributes)
    assert all(a.critique for a in result.attributes)
    assert result.score is not None and 0 <= result.score <= 100
    names = [x.name for x in result.measures]
    assert len(names) == len(set(names))
    assert {"sharpness", "sharpness_region", "motion_blur", "highlights_clipped", "shadows_clipped"} <= set(names)
    assert {"mean_luminance", "tonal_range", "noise", "colourfulness", "colour_cast"} <= set(names)
    assert {"horizon_tilt", "thirds_distance"} <= set(names)
    assert all(x.unit and x.note for x in result.measures)


def test_critiques_say_what_was_measured(photo: Image.Image) -> None:
    blown = notes.build_result(m.analyze(analysis_array(to_image(np.asarray(photo, np.float32) / 255.0 * 2.0))))
    technical = blown.attributes[0].critique or ""
    assert "clipped white" in technical and "%" in technical
    tilted = notes.build_result(m.analyze(analysis_array(rotated(photo, 3))))
    composition = tilted.attributes[1].critique or ""
    assert "tilts 3." in composition


def test_analyze_refuses_what_is_not_an_rgb_image() -> None:
    with pytest.raises(ValueError):
        m.analyze(np.zeros((100, 100), np.float32))
    with pytest.raises(ValueError):
        m.analyze(np.zeros((8, 8, 3), np.float32))


def test_a_flat_grey_frame_is_handled() -> None:
    result = notes.build_result(m.analyze(np.full((341, 512, 3), 0.5, np.float32)))
    assert result.score is not None and result.error is None
    assert all(np.isfinite(x.value) for x in result.measures)
