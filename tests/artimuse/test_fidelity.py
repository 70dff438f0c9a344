"""End-to-end fidelity against the authors' implementation (expected.json), float32 on the CPU.

Tolerances are the fixture's recommended ones: pixel values 1e-6, vit_embeds 1e-4, score logits 1e-4, score
5e-4, sums 1e-5 x abs_sum; input ids, generated ids and responses exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from artimuse_desktop.scoring.artimuse import prompts
from tests.artimuse.conftest import FIXTURE_DIR

pytestmark = pytest.mark.model


def _tol(expected: dict[str, Any], key: str) -> float:
    return float(expected["tolerances"]["recommended"][key])


def test_prompt_constants_match_the_reference(expected: dict[str, Any]) -> None:
    ref = expected["prompts"]
    assert ref["system_message"] == prompts.SYSTEM_MESSAGE
    assert ref["attribute_question_template"] == prompts.ATTRIBUTE_TEMPLATE
    assert list(prompts.ASPECTS) == ref["all_attribute_aspects"]
    assert prompts.question(prompts.SCORE_TEXT) == ref["score"]["question"]
    assert prompts.score_query(expected["model"]["num_image_token"]) == ref["score"]["query"]
    for aspect, item in ref["attributes"].items():
        assert prompts.question(prompts.attribute_text(aspect)) == item["question"]
        assert prompts.attribute_query(aspect, expected["model"]["num_image_token"]) == item["query"]
    assert list(prompts.AESTHETIC_TOKENS) == expected["tokens"]["aesthetic_tokens"]


def test_pixel_values(expected: dict[str, Any], image_files: list[str], pixel_values: np.ndarray) -> None:
    tol = _tol(expected, "pixel_values_values_abs")
    rel = _tol(expected, "summary_sums_tol_relative_to_abs_sum")
    for index, name in enumerate(image_files):
        ref = expected["images"][name]["pixel_values"]
        ours = pixel_values[index]
        assert [1, *ours.shape] == ref["shape"]
        np.testing.assert_allclose(ours.reshape(-1)[:8], ref["first"], rtol=0, atol=tol)
        for key, value in ref["samples"].items():
            c, y, x = (int(v) for v in key.split(","))
            assert abs(float(ours[c, y, x]) - value) <= tol, (name, key)
        np.testing.assert_allclose(ours.mean(axis=(1, 2)), ref["mean_per_channel"], rtol=0, atol=1e-6)
        assert abs(float(ours.astype(np.float64).sum()) - ref["sum"]) <= rel * ref["abs_sum"]


def test_backend_prepare_decodes_the_original_like_the_reference(
    tiny_backend: Any, expected: dict[str, Any], image_files: list[str], pixel_values: np.ndarray
) -> None:
    from artimuse_desktop.scoring.types import PhotoInput

    for index, name in enumerate(image_files):
        item = PhotoInput(photo_id=index, path=str(FIXTURE_DIR / expected["images"][name]["file"]), fingerprint="x")
        prepared = tiny_backend.prepare(item)
        np.testing.assert_array_equal(prepared.pixel_values, pixel_values[index])


def test_input_ids(tiny_model: Any, expected: dict[str, Any]) -> None:
    n = tiny_model.spec.num_image_token
    assert list(tiny_model.encode(prompts.score_query(n))) == expected["prompts"]["score"]["input_ids"]
    for aspect, item in expected["prompts"]["attributes"].items():
        assert list(tiny_model.encode(prompts.attribute_query(aspect, n))) == item["input_ids"]
    assert list(tiny_model.spec.aesthetic_token_ids) == expected["tokens"]["aesthetic_token_ids"]
    assert tiny_model.spec.image_token_id == expected["tokens"]["img_context_token_id"]
    assert tiny_model.spec.eos_token_id == expected["tokens"]["generation_eos_token_id"]


def test_vit_embeds(
    tiny_model: Any, expected: dict[str, Any], image_files: list[str], pixel_values: np.ndarray
) -> None:
    import torch

    features = tiny_model.image_features(torch.from_numpy(pixel_values)).float().numpy()
    tol = _tol(expected, "vit_embeds_values_abs")
    rel = _tol(expected, "summary_sums_tol_relative_to_abs_sum")
    for index, name in enumerate(image_files):
        ref = expected["images"][name]["vit_embeds"]
        assert [1, *features[index].shape] == ref["shape"]
        np.testing.assert_allclose(features[index].reshape(-1)[:8], ref["first"], rtol=0, atol=tol)
        assert abs(float(features[index].astype(np.float64).sum()) - ref["sum"]) <= rel * ref["abs_sum"]


def test_scores_batched_in_one_forward_pass(
    tiny_model: Any, expected: dict[str, Any], image_files: list[str], pixel_values: np.ndarray
) -> None:
    from artimuse_desktop.scoring.artimuse import scorer

    calls = {"vision": 0, "llm": 0}
    model = tiny_model.model
    vision_hook = model.model.vision_tower.register_forward_hook(
        lambda *a: calls.__setitem__("vision", calls["vision"] + 1)
    )
    llm_hook = model.model.language_model.register_forward_hook(lambda *a: calls.__setitem__("llm", calls["llm"] + 1))
    try:
        results = scorer.score_images(tiny_model, pixel_values)
    finally:
        vision_hook.remove()
        llm_hook.remove()
    assert calls == {"vision": 1, "llm": 1}  # 4 photos, one pass each
    for result, name in zip(results, image_files, strict=True):
        ref = expected["images"][name]
        np.testing.assert_allclose(result.logits, ref["score_logits"], rtol=0, atol=_tol(expected, "score_logits_abs"))
        assert abs(result.score - ref["score"]) <= _tol(expected, "score_abs"), name
        assert result.attributes == ()


def test_batched_equals_one_at_a_time(tiny_model: Any, expected: dict[str, Any], pixel_values: np.ndarray) -> None:
    from artimuse_desktop.scoring.artimuse import scorer

    batched = scorer.score_images(tiny_model, pixel_values)
    for index in range(len(pixel_values)):
        single = scorer.score_images(tiny_model, pixel_values[index])[0]
        assert abs(single.score - batched[index].score) <= _tol(expected, "score_abs")
        np.testing.assert_allclose(
            single.logits, batched[index].logits, rtol=0, atol=_tol(expected, "score_logits_abs")
        )


def test_left_padded_rows_score_like_unpadded_ones(tiny_model: Any, pixel_values: np.ndarray) -> None:
    """Holistic rows mixed with longer and shorter prompts in one batch: padding must not move the numbers."""
    import torch

    from artimuse_desktop.scoring.artimuse import scorer

    n = tiny_model.spec.num_image_token
    holistic = prompts.score_query(n)
    short = prompts.attribute_query("Overall Gestalt", n)
    features = tiny_model.image_features(torch.from_numpy(pixel_values[:2]))
    mixed = scorer.score_logits(tiny_model, features, [short, holistic, short, holistic], [0, 0, 1, 1])
    alone = scorer.score_logits(tiny_model, features, [holistic, holistic], [0, 1])
    short_alone = scorer.score_logits(tiny_model, features, [short], [1])
    np.testing.assert_allclose(mixed[[1, 3]], alone, rtol=0, atol=1e-4)
    np.testing.assert_allclose(mixed[2], short_alone[0], rtol=0, atol=1e-4)


def test_backend_score_batch(tiny_backend: Any, expected: dict[str, Any], image_files: list[str]) -> None:
    from artimuse_desktop.scoring.types import PhotoInput

    items = [
        PhotoInput(photo_id=i, path=str(FIXTURE_DIR / expected["images"][name]["file"]), fingerprint=name)
        for i, name in enumerate(image_files)
    ]
    results = tiny_backend.score_batch([tiny_backend.prepare(item) for item in items])
    for result, name in zip(results, image_files, strict=True):
        assert result.error is None
        assert abs(result.score - expected["images"][name]["score"]) <= _tol(expected, "score_abs")
        assert result.attributes == []


def test_critiques_match_the_reference(
    tiny_model: Any, expected: dict[str, Any], image_files: list[str], pixel_values: np.ndarray
) -> None:
    from artimuse_desktop.scoring.artimuse import critique

    aspects = list(expected["prompts"]["attributes"])
    max_new = expected["generation"]["max_new_tokens"]
    for index, name in enumerate(image_files):
        output = critique.critique_image(tiny_model, pixel_values[index], aspects, max_new_tokens=max_new)
        assert not output.cancelled
        for aspect in aspects:
            ref = expected["images"][name]["chat"][aspect]
            assert output.token_ids[aspect] == ref["new_token_ids"], (name, aspect)
            assert output.texts[aspect] == ref["response"], (name, aspect)
            assert output.finished[aspect]


def test_all_eight_attributes_in_one_call_include_the_recorded_ones(
    tiny_model: Any, expected: dict[str, Any], image_files: list[str], pixel_values: np.ndarray
) -> None:
    from artimuse_desktop.scoring.artimuse import critique, prefix

    batches: list[tuple[Any, ...]] = []  # (module, rows, tokens) per forward pass
    model = tiny_model.model

    def record(name: str) -> Any:
        def hook(_module: Any, args: Any, kwargs: Any) -> None:
            tensor = kwargs.get("inputs_embeds", kwargs.get("pixel_values", args[0] if args else None))
            batches.append((name, *tensor.shape[:2]))

        return hook

    hooks = [
        model.model.vision_tower.register_forward_pre_hook(record("vision"), with_kwargs=True),
        model.model.language_model.register_forward_pre_hook(record("llm"), with_kwargs=True),
    ]
    try:
        output = critique.critique_image(tiny_model, pixel_values[0], max_new_tokens=24)
    finally:
        for hook in hooks:
            hook.remove()
    # the image once; ONE pass over one packed row: the shared prefix and the critiques' common text once,
    # then the 8 attribute endings; then one pass per token for the 8 rows together
    rows = [tiny_model.encode(prompts.attribute_query(a, tiny_model.spec.num_image_token)) for a in prompts.ASPECTS]
    common = prefix.common_prefix(rows)
    assert common > len(prefix.prefix_ids(tiny_model))
    assert batches[0] == ("vision", 1, 3)
    assert [b[0] for b in batches[1:]] == ["llm"] * 24
    assert batches[1][1:] == (1, common + sum(len(r) - common for r in rows))
    assert all(rows == 8 and tokens == 1 for _name, rows, tokens in batches[2:])
    assert list(output.texts) == list(prompts.ASPECTS)
    for aspect, ref in expected["images"][image_files[0]]["chat"].items():
        assert output.texts[aspect] == ref["response"]


def test_decoder_reproduces_the_slow_tokenizer(tiny_model: Any, expected: dict[str, Any]) -> None:
    from artimuse_desktop.scoring.artimuse.critique import ResponseDecoder

    decoder = ResponseDecoder(tiny_model.tokenizer, tiny_model.spec.dropped_token_ids)
    differs_from_fast = 0
    for image in expected["images"].values():
        for ref in image["chat"].values():
            assert decoder.raw_text(ref["generated_ids"]) == ref["decoded_skip_special_tokens"]
            assert decoder.response(ref["generated_ids"]) == ref["response"]
            differs_from_fast += ref["response"] != ref["response_fast_tokenizer"]
    assert differs_from_fast == 2  # the cases where keeping <quad>, </box>... matters are really covered
