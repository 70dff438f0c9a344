"""Streaming, cancellation, the experimental attribute scores and the backend's surface."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.scoring.artimuse import prompts
from artimuse_desktop.scoring.backend import Backend
from artimuse_desktop.scoring.types import PhotoInput
from artimuse_desktop.vocabulary import ATTRIBUTES
from tests.artimuse.conftest import FIXTURE_DIR
from tests.waiting import blocked_in, wait_until

pytestmark = pytest.mark.model


def _item(expected: dict[str, Any], name: str, photo_id: int = 1) -> PhotoInput:
    return PhotoInput(photo_id=photo_id, path=str(FIXTURE_DIR / expected["images"][name]["file"]), fingerprint=name)


def test_streaming_is_incremental_and_adds_up_to_the_final_text(
    tiny_model: Any, pixel_values: np.ndarray, expected: dict[str, Any], image_files: list[str]
) -> None:
    from artimuse_desktop.scoring.artimuse import critique

    aspects = list(expected["prompts"]["attributes"])
    for index, name in enumerate(image_files):
        fragments: dict[str, list[str]] = {a: [] for a in aspects}
        output = critique.critique_image(
            tiny_model,
            pixel_values[index],
            aspects,
            on_token=lambda aspect, text, got=fragments: got[aspect].append(text),
            max_new_tokens=24,
        )
        for aspect in aspects:
            assert len(fragments[aspect]) > 5, "text must arrive token by token, not at the end"
            assert all(fragments[aspect])
            assert "".join(fragments[aspect]) == output.texts[aspect]
            assert output.texts[aspect] == expected["images"][name]["chat"][aspect]["response"]


def test_stream_holds_back_what_can_still_change(tiny_model: Any) -> None:
    """An incomplete UTF-8 sequence, trailing spaces and a partial ``<|im_end|>`` are never emitted early."""
    from artimuse_desktop.scoring.artimuse.critique import ResponseDecoder, RowStreamer

    tok = tiny_model.tokenizer
    decoder = ResponseDecoder(tok, tiny_model.spec.dropped_token_ids)
    # "是" is 3 bytes; feed a text whose tokens split inside it, plus spaces, then finish.
    ids = tok("  ab 是 cd  ", add_special_tokens=False)["input_ids"]
    got: list[str] = []
    streamer = RowStreamer(["A"], decoder, tiny_model.spec.eos_token_id, lambda _a, text: got.append(text))
    import torch

    streamer.put(torch.empty((1, 0), dtype=torch.long))
    for token in ids:
        streamer.put(torch.tensor([token]))
        assert "\ufffd" not in "".join(got)
        assert not "".join(got).endswith(" ")
    streamer.put(torch.tensor([tiny_model.spec.eos_token_id]))
    streamer.put(torch.tensor([ids[0]]))  # after eos: ignored
    streamer.end()
    assert "".join(got) == "ab 是 cd" == decoder.response(ids)


def test_cancellation_stops_generation(tiny_model: Any, pixel_values: np.ndarray) -> None:
    from artimuse_desktop.scoring.artimuse import critique

    cancel = CancelToken()
    seen: list[str] = []

    def on_token(aspect: str, text: str) -> None:
        seen.append(text)
        if len(seen) == 8:
            cancel.cancel()

    output = critique.critique_image(
        tiny_model, pixel_values[0], list(ATTRIBUTES), on_token=on_token, cancel=cancel, max_new_tokens=200
    )
    assert output.cancelled
    lengths = {len(ids) for ids in output.token_ids.values()}
    assert max(lengths) < 10, f"generation went on after cancel: {lengths}"
    assert output.completed == {}


def test_pause_blocks_generation_until_resumed(tiny_model: Any, pixel_values: np.ndarray) -> None:
    from artimuse_desktop.scoring.artimuse import critique

    cancel = CancelToken()
    cancel.pause()
    result: dict[str, Any] = {}
    worker = threading.Thread(
        target=lambda: result.update(
            out=critique.critique_image(
                tiny_model, pixel_values[1], ["Overall Gestalt"], cancel=cancel, max_new_tokens=6
            )
        )
    )
    worker.start()
    assert worker.ident is not None
    wait_until(lambda: blocked_in(CancelToken.wait_if_paused, worker.ident), what="generation to wait at the pause")
    assert worker.is_alive() and "out" not in result
    cancel.resume()
    worker.join(timeout=30)
    assert len(result["out"].token_ids["Overall Gestalt"]) == 6


def test_backend_critique_streams_and_returns_texts(
    tiny_backend: Any, expected: dict[str, Any], image_files: list[str]
) -> None:
    name = image_files[2]
    fragments: list[tuple[str, str]] = []
    tiny_backend.max_new_tokens = 24
    try:
        texts = tiny_backend.critique(
            _item(expected, name),
            ["composition", "technical execution"],
            on_token=lambda a, t: fragments.append((a, t)),
        )
    finally:
        tiny_backend.max_new_tokens = None
    assert set(texts) == {"Composition & Design", "Technical Execution"}
    for aspect, text in texts.items():
        assert text == expected["images"][name]["chat"][aspect]["response"]
        assert "".join(t for a, t in fragments if a == aspect) == text


def test_backend_critique_cancelled_returns_nothing(
    tiny_backend: Any, expected: dict[str, Any], image_files: list[str]
) -> None:
    cancel = CancelToken()
    texts = tiny_backend.critique(
        _item(expected, image_files[0]), [], on_token=lambda a, t: cancel.cancel(), cancel=cancel
    )
    assert cancel.cancelled
    assert texts == {}


def test_experimental_attribute_scores_are_flagged(
    tiny_backend: Any,
    tiny_model: Any,
    expected: dict[str, Any],
    image_files: list[str],
    pixel_values: np.ndarray,
) -> None:
    from artimuse_desktop.scoring.artimuse import scorer

    results = scorer.score_images(tiny_model, pixel_values[:2], experimental_aspects=ATTRIBUTES)
    for index, result in enumerate(results):
        # the holistic score is untouched by the extra rows in the batch
        assert abs(result.score - expected["images"][image_files[index]]["score"]) <= 5e-4
        assert [a.aspect for a in result.attributes] == list(ATTRIBUTES)
        assert all(a.experimental and 0.0 <= a.score <= 100.0 for a in result.attributes)
    assert "aspect of Composition & Design" in prompts.experimental_attribute_score_query("Composition & Design", 1)
    assert prompts.SCORE_TEXT not in prompts.experimental_attribute_score_query("Composition & Design", 1)

    tiny_backend.experimental_attribute_scores = True
    try:
        batch = tiny_backend.score_batch([tiny_backend.prepare(_item(expected, image_files[0]))])
    finally:
        tiny_backend.experimental_attribute_scores = False
    assert [a.attribute for a in batch[0].attributes] == list(ATTRIBUTES)
    assert all(a.experimental and a.critique is None for a in batch[0].attributes)
    assert abs(batch[0].score - expected["images"][image_files[0]]["score"]) <= 5e-4


def test_backend_surface(tiny_backend: Any) -> None:
    assert isinstance(tiny_backend, Backend)
    assert tiny_backend.name == "artimuse:tiny"
    assert tiny_backend.supports_critique
    checksum = tiny_backend.entry.checksum
    assert tiny_backend.version.startswith(f"w{checksum[:12]}.c")
    assert tiny_backend.availability().available


def test_prepare_applies_exif_orientation_and_reports_bad_files(tiny_backend: Any, tmp_path: Path) -> None:
    from artimuse_desktop.errors import DecodeError
    from artimuse_desktop.scoring.artimuse.preprocess import preprocess

    image = Image.new("RGB", (600, 300))
    image.paste((250, 10, 10), (0, 0, 300, 300))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    rotated_path = tmp_path / "rotated.jpg"
    image.save(rotated_path, quality=95, exif=exif)
    prepared = tiny_backend.prepare(PhotoInput(photo_id=1, path=str(rotated_path), fingerprint="r"))
    with Image.open(rotated_path) as raw:
        upright = raw.transpose(Image.Transpose.ROTATE_270).convert("RGB")
    np.testing.assert_allclose(prepared.pixel_values, preprocess(upright), atol=0.05)
    override = tiny_backend.prepare(PhotoInput(photo_id=1, path=str(rotated_path), fingerprint="r", orientation=1))
    with Image.open(rotated_path) as raw:
        np.testing.assert_allclose(override.pixel_values, preprocess(raw.convert("RGB")), atol=0.05)
    tiny_backend.reduced_decode = True
    try:
        reduced = tiny_backend.prepare(PhotoInput(photo_id=1, path=str(rotated_path), fingerprint="r"))
    finally:
        tiny_backend.reduced_decode = False
    assert reduced.pixel_values.shape == (3, 448, 448)
    assert np.abs(reduced.pixel_values - prepared.pixel_values).mean() < 0.05
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(DecodeError):
        tiny_backend.prepare(PhotoInput(photo_id=2, path=str(bad), fingerprint="b"))


def test_native_layout_folder_is_accepted_and_scores_the_same(
    use_tiny_store: Path, tmp_path: Path, expected: dict[str, Any], image_files: list[str]
) -> None:
    """A folder already in the native layout (here: a converted copy, re-sharded) goes through models add."""
    import shutil

    from artimuse_desktop.cli import main
    from artimuse_desktop.scoring.artimuse.convert import checkpoint as conversion
    from artimuse_desktop.scoring.artimuse.convert import safetensors_io
    from artimuse_desktop.scoring.registry import create_backend

    native = tmp_path / "native"
    converted = use_tiny_store / "tiny"
    checkpoint = conversion.inspect_checkpoint(converted)
    assert checkpoint.layout == "internvl"
    # re-shard into 3 files with an index, as Hub checkpoints are, then add that folder
    native.mkdir()
    safetensors_io.write_shards(sorted(checkpoint.tensors.items()), native, max_shard_bytes=300_000)
    for path in converted.iterdir():
        if path.is_file() and not path.name.startswith("model"):  # (.quantized/: other tests' cached layers)
            shutil.copyfile(path, native / path.name)
    assert (native / "model.safetensors.index.json").is_file()
    assert main(["models", "add", str(native), "--name", "tiny-native"]) == 0
    backend = create_backend("artimuse:tiny-native")
    backend.load("cpu")
    try:
        name = image_files[3]
        result = backend.score_batch([backend.prepare(_item(expected, name))])[0]
        assert abs(result.score - expected["images"][name]["score"]) <= 5e-4
    finally:
        backend.unload()
        assert main(["models", "remove", "tiny-native"]) == 0


@pytest.mark.parametrize("kind", ["torch", "cpu-allocator"])
def test_out_of_memory_becomes_our_error(
    tiny_backend: Any, expected: dict[str, Any], image_files: list[str], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    import torch

    from artimuse_desktop.errors import OutOfMemoryError

    def fail(*args: Any, **kwargs: Any) -> Any:
        if kind == "torch":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory")

    prepared = [tiny_backend.prepare(_item(expected, name)) for name in image_files]
    monkeypatch.setattr(tiny_backend.loaded.model.model.vision_tower, "forward", fail)
    with pytest.raises(OutOfMemoryError, match="scoring a batch of 4 photos"):
        tiny_backend.score_batch(prepared)


def test_registry_default_name_resolves_to_the_installed_model(use_tiny_store: Path) -> None:
    from artimuse_desktop.scoring.registry import create_backend

    backend = create_backend("artimuse")
    assert backend.name == "artimuse:tiny"
    assert backend.version == create_backend("artimuse:tiny").version


def test_load_refuses_a_store_model_with_missing_weights(tmp_path: Path) -> None:
    """transformers would fill a missing tensor with random values; the load must refuse instead."""
    from artimuse_desktop.errors import ModelUnavailableError
    from artimuse_desktop.scoring.artimuse import model, store
    from artimuse_desktop.scoring.artimuse.convert import safetensors_io

    entry = store.add_model(FIXTURE_DIR, "broken")
    weights = entry.path / "model.safetensors"
    tensors = safetensors_io.read_header(weights)
    (entry.path / "staging").mkdir()
    kept = [(n, r) for n, r in sorted(tensors.items()) if n != "model.language_model.norm.weight"]
    safetensors_io.write_shards(kept, entry.path / "staging", max_shard_bytes=10**9)
    (entry.path / "staging" / "model.safetensors").replace(weights)
    with pytest.raises(ModelUnavailableError, match=r"missing_keys: model\.language_model\.norm\.weight"):
        model.load_model(entry, "cpu")
