"""Token-As-Score, batched: many photos in one forward pass, the same numbers as one photo at a time.

The score is the expected value of the softmax over the 101 score tokens (aa..ey = 0..100) at the last prompt
position. Batching runs the vision tower once over all photos and the language model once over all prompts;
rows are left-padded with an attention mask and position ids that count only real tokens, and only the last
position's logits are computed. The holistic score always uses the authors' prompt unchanged. Optional
per-attribute scores use an aspect-conditioned variant of that prompt through the same head: the model was not
trained for that, so those numbers are marked EXPERIMENTAL wherever they appear. Those extra rows share
their photo's prefilled prefix (``prefix``); ``score_with_prefix`` hands a photo's prefix on to its critiques
(the holistic prompt alone still goes through in one pass, its cache then cut back to the prefix).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from artimuse_desktop.scoring.artimuse import prefix, prompts
from artimuse_desktop.scoring.artimuse.devices import oom_guard
from artimuse_desktop.scoring.artimuse.model import LoadedModel
from artimuse_desktop.scoring.artimuse.prefix import Prefix


@dataclass(frozen=True)
class ExperimentalScore:
    """An attribute score read through the holistic head with an aspect-conditioned prompt. Not validated."""

    aspect: str
    score: float
    experimental: bool = True


@dataclass(frozen=True)
class ImageScore:
    score: float
    logits: np.ndarray  # the 101 raw score-token logits, float32, score order
    attributes: tuple[ExperimentalScore, ...] = field(default_factory=tuple)


def expected_scores(logits: Any) -> Any:
    """``sum_i softmax(logits)_i * i`` over the 101 score tokens, in float32 whatever the model dtype."""
    import torch

    probs = torch.softmax(logits.float(), dim=-1)
    weights = torch.arange(probs.shape[-1], dtype=torch.float32, device=probs.device)
    return probs @ weights


def score_logits(
    lm: LoadedModel, image_features: Any, texts: Sequence[str], row_images: Sequence[int], cache: Any = None
) -> np.ndarray:
    """One language-model pass over all rows; returns ``[rows, 101]`` float32 score logits. With ``cache`` (a
    transformers ``DynamicCache``) the pass also fills it; without, no KV cache is kept at all."""
    import torch

    embeds, mask, position_ids = lm.build_inputs(texts, image_features, row_images)
    cached = {} if cache is None else prefix.cache_argument(lm, cache)
    with torch.inference_mode():
        output = lm.model(
            inputs_embeds=embeds,
            attention_mask=mask,
            position_ids=position_ids,
            use_cache=cache is not None,
            logits_to_keep=1,
            **cached,
        )
        ids = torch.as_tensor(lm.spec.aesthetic_token_ids, device=output.logits.device)
        logits = output.logits[:, -1, :].index_select(-1, ids).float()
    return logits.cpu().numpy()


def score_images(
    lm: LoadedModel,
    pixel_values: Any,
    experimental_aspects: Sequence[str] = (),
) -> list[ImageScore]:
    """Score ``[N, 3, 448, 448]`` pixel values (numpy or torch) in one vision pass and one LLM pass.

    With ``experimental_aspects`` each photo also gets one row per aspect (same image features, no extra
    vision work); those scores come back flagged experimental. The rows of one photo then share one prefilled
    prefix (system turn + image), so each extra aspect costs only its own suffix.
    """
    tensor = _as_batch(pixel_values)
    count = int(tensor.shape[0])
    if count == 0:
        return []
    texts, rows = _rows(lm, count, experimental_aspects)
    with lm.lock, oom_guard(lm.device, f"scoring a batch of {count} photos"):
        features = lm.image_features(tensor)
        if experimental_aspects:
            logits = _suffix_logits(lm, prefix.prefill(lm, features), texts, rows)
        else:  # one row per photo: nothing to share, one plain pass is cheapest
            logits = score_logits(lm, features, texts, rows)
    return _results(logits, count, experimental_aspects)


def score_with_prefix(
    lm: LoadedModel, pixel_values: Any, experimental_aspects: Sequence[str] = ()
) -> tuple[ImageScore, Prefix]:
    """Score one photo through its shared prefix and return that prefix too, for its critiques to branch."""
    tensor = _as_batch(pixel_values)
    if int(tensor.shape[0]) != 1:
        raise ValueError(f"score_with_prefix takes one photo, not {int(tensor.shape[0])}")
    texts, rows = _rows(lm, 1, experimental_aspects)
    with lm.lock, oom_guard(lm.device, "scoring a photo"):
        features = lm.image_features(tensor)
        if experimental_aspects:
            shared = prefix.prefill(lm, features)
            logits = _suffix_logits(lm, shared, texts, rows)
        else:  # one pass over the whole prompt, as a bare forward; its prefix's part of the cache is kept
            logits, shared = _score_keeping_prefix(lm, features, texts[0])
    return _results(logits, 1, experimental_aspects)[0], shared


def _score_keeping_prefix(lm: LoadedModel, image_features: Any, text: str) -> tuple[np.ndarray, Prefix]:
    """The score prompt in one pass with a KV cache, then the cache cut back to the shared prefix: the score
    costs what a plain forward pass costs (a prefix pass and a suffix pass would read the weights twice)."""
    from transformers import DynamicCache

    cache = DynamicCache(config=lm.model.config)
    logits = score_logits(lm, image_features, [text], [0], cache=cache)
    return logits, prefix.keep_prefix(lm, lm.encode(text), cache)


def _as_batch(pixel_values: Any) -> Any:
    import torch

    tensor = torch.from_numpy(pixel_values) if isinstance(pixel_values, np.ndarray) else pixel_values
    return tensor.unsqueeze(0) if tensor.ndim == 3 else tensor


def _rows(lm: LoadedModel, count: int, aspects: Sequence[str]) -> tuple[list[str], list[int]]:
    """Per photo: the holistic prompt, then one experimental prompt per aspect; and each row's photo."""
    n, system = lm.spec.num_image_token, lm.spec.system_message
    per_photo = [prompts.score_query(n, system)]
    per_photo += [prompts.experimental_attribute_score_query(a, n, system) for a in aspects]
    texts = per_photo * count
    rows = [image for image in range(count) for _ in per_photo]
    return texts, rows


def _suffix_logits(lm: LoadedModel, shared: Prefix, texts: Sequence[str], rows: Sequence[int]) -> np.ndarray:
    branch = prefix.run_suffixes(lm, shared, texts, rows, all_logits=False, decode=False)
    result: np.ndarray = branch.last_logits.float().cpu().numpy()
    return result


def _results(logits: np.ndarray, count: int, aspects: Sequence[str]) -> list[ImageScore]:
    import torch

    with torch.inference_mode():
        scores = expected_scores(torch.from_numpy(logits)).tolist()
    per_image = 1 + len(aspects)
    results = []
    for image in range(count):
        base = image * per_image
        attributes = tuple(
            ExperimentalScore(aspect=aspect, score=float(scores[base + 1 + k])) for k, aspect in enumerate(aspects)
        )
        results.append(ImageScore(score=float(scores[base]), logits=logits[base], attributes=attributes))
    return results
