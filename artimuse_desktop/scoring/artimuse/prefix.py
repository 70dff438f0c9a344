"""One prefix per photo: the system turn and the image are prefilled once, every prompt branches from there.

Every prompt the app sends (the score prompt, the 8 critique prompts, the experimental attribute-score
prompts) starts with the same tokens: the system turn, the user turn's start and the image (``<img>``, the
``<IMG_CONTEXT>`` run, ``</img>``). That common part is about half of each prompt and almost all of its cost.
Here it goes through the language model once per photo into a KV cache; each prompt then prefills only its own
suffix against a copy of that cache (and what a batch of suffixes still shares, e.g. the critiques' ``Please
evaluate ... aspect of``, is prefilled once more per photo first). The split is taken on token ids (the
longest run of ids common to all the app's prompts, never the whole of any one of them), so every prompt sees
exactly the tokens and positions it would see alone; only float rounding differs, far inside the fidelity
bars.

Suffixes of different lengths sit in one batch padded in the middle: ``prefix | pad.. | suffix``, the pads
masked out and the position ids counting real tokens only, so every row ends on the last column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.artimuse import prompts
from artimuse_desktop.scoring.artimuse.model import LoadedModel


@dataclass
class Prefix:
    """The prefilled common prefix of ``photos`` photos: ids, and the KV cache with one row per photo."""

    ids: tuple[int, ...]
    cache: Any  # transformers DynamicCache, batch = photos; never extended in place (``branch`` copies)
    photos: int

    @property
    def length(self) -> int:
        return len(self.ids)


@dataclass
class Branch:
    """A batch of suffix rows prefilled against a copy of the prefix: ready to score or decode from."""

    cache: Any  # DynamicCache, one row per suffix, extended by decoding
    attention_mask: Any  # [rows, cached length]: prefix ones, masked pads, suffix ones
    next_positions: Any  # [rows] the position id of each row's next token
    last_logits: Any  # [rows, vocab] logits at each row's last prompt token


def cache_argument(lm: LoadedModel, cache: Any) -> dict[str, Any]:
    """``cache=`` where the model's forward takes it (transformers 5.2x), else ``past_key_values=``."""
    model_class: Any = type(lm.model)
    keyword = _CACHE_KEYWORDS.get(model_class)
    if keyword is None:
        import inspect

        parameters = inspect.signature(model_class.forward).parameters
        keyword = _CACHE_KEYWORDS[model_class] = "cache" if "cache" in parameters else "past_key_values"
    return {keyword: cache}


_CACHE_KEYWORDS: dict[Any, str] = {}


def app_prompts(lm: LoadedModel) -> list[str]:
    """Every prompt the app sends for a photo: the shared prefix is taken over all of them."""
    n, system = lm.spec.num_image_token, lm.spec.system_message
    texts = [prompts.score_query(n, system)]
    texts += [prompts.attribute_query(a, n, system) for a in prompts.ASPECTS]
    texts += [prompts.experimental_attribute_score_query(a, n, system) for a in prompts.ASPECTS]
    return texts


def common_prefix(rows: Sequence[Sequence[int]]) -> int:
    """The length of the longest run of ids all rows start with, leaving at least one id in every row."""
    if not rows:
        return 0
    limit = min(len(r) for r in rows) - 1
    first = rows[0]
    length = 0
    while length < limit and all(r[length] == first[length] for r in rows[1:]):
        length += 1
    return max(length, 0)


def prefix_ids(lm: LoadedModel) -> tuple[int, ...]:
    """The ids every app prompt starts with; it must hold all the image tokens (the features go there)."""
    rows = [lm.encode(text) for text in app_prompts(lm)]
    ids = tuple(rows[0][: common_prefix(rows)])
    if sum(1 for i in ids if i == lm.spec.image_token_id) != lm.spec.num_image_token:
        raise ModelError("the prompts do not share the image: the shared prefix would not hold the image tokens")
    return ids


def suffixes(lm: LoadedModel, prefix: Prefix, texts: Sequence[str]) -> list[tuple[int, ...]]:
    """Each prompt's ids after the prefix; refuses a prompt that does not start with it (token for token)."""
    out = []
    for text in texts:
        ids = lm.encode(text)
        if ids[: prefix.length] != prefix.ids or len(ids) <= prefix.length:
            raise ModelError(f"prompt does not start with the shared prefix: {text[:60]!r}...")
        out.append(ids[prefix.length :])
    return out


def prefill(lm: LoadedModel, image_features: Any) -> Prefix:
    """Run the shared prefix of ``[N, num_image_token, hidden]`` photos through the model once: N rows."""
    import torch
    from transformers import DynamicCache

    ids = prefix_ids(lm)
    photos = int(image_features.shape[0])
    input_ids = torch.tensor([ids] * photos, dtype=torch.long, device=lm.device)
    with torch.inference_mode():
        embeds = lm.model.get_input_embeddings()(input_ids)
        selected = input_ids == lm.spec.image_token_id
        embeds[selected] = image_features.to(embeds.device, embeds.dtype).reshape(-1, embeds.shape[-1])
        cache = DynamicCache(config=lm.model.config)
        positions = torch.arange(len(ids), device=lm.device).unsqueeze(0).expand(photos, -1)
        lm.model(
            inputs_embeds=embeds,
            attention_mask=torch.ones_like(input_ids),
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
            **cache_argument(lm, cache),
        )
    return Prefix(ids=ids, cache=cache, photos=photos)


def branch_cache(lm: LoadedModel, prefix: Prefix, row_photos: Sequence[int]) -> Any:
    """A new cache with row ``r`` a copy of photo ``row_photos[r]``'s prefix (the prefix stays untouched)."""
    import torch
    from transformers import DynamicCache

    index = torch.as_tensor(list(row_photos), dtype=torch.long)
    data = []
    for layer in prefix.cache.layers:
        keys, values = layer.keys, layer.values
        data.append((keys.index_select(0, index.to(keys.device)), values.index_select(0, index.to(values.device))))
    return DynamicCache(data, config=lm.model.config)


def extend(lm: LoadedModel, prefix: Prefix, ids: Sequence[int]) -> Prefix:
    """A longer prefix: ``ids`` prefilled after ``prefix`` for every photo (``prefix`` itself is untouched)."""
    import torch

    photos, start = prefix.photos, prefix.length
    cache = branch_cache(lm, prefix, range(photos))
    input_ids = torch.tensor([list(ids)] * photos, dtype=torch.long, device=lm.device)
    positions = torch.arange(start, start + len(ids), device=lm.device).unsqueeze(0).expand(photos, -1)
    with torch.inference_mode():
        lm.model(
            input_ids=input_ids,
            attention_mask=torch.ones((photos, start + len(ids)), dtype=torch.long, device=lm.device),
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
            **cache_argument(lm, cache),
        )
    return Prefix(ids=prefix.ids + tuple(ids), cache=cache, photos=photos)


def run_suffixes(
    lm: LoadedModel, prefix: Prefix, texts: Sequence[str], row_photos: Sequence[int], all_logits: bool = True
) -> Branch:
    """Prefill each prompt's suffix against its photo's prefix, all rows in one forward pass.

    What all the suffixes still have in common (the critique prompts share ``Please evaluate ... aspect of``)
    is first prefilled once per photo too, so each row pays only for its own last tokens. ``all_logits``
    False keeps only the 101 score tokens' logits (``last_logits`` is then ``[rows, 101]``).
    """
    import torch

    rows = suffixes(lm, prefix, texts)
    common = common_prefix(rows) if len(rows) > 1 else 0
    if common:
        prefix = extend(lm, prefix, rows[0][:common])
        rows = [r[common:] for r in rows]
    count, width = len(rows), max(len(r) for r in rows)
    pad = lm.spec.eos_token_id
    input_ids = torch.full((count, width), pad, dtype=torch.long)
    suffix_mask = torch.zeros((count, width), dtype=torch.long)
    for r, ids in enumerate(rows):
        input_ids[r, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
        suffix_mask[r, width - len(ids) :] = 1
    input_ids, suffix_mask = input_ids.to(lm.device), suffix_mask.to(lm.device)
    mask = torch.cat([torch.ones((count, prefix.length), dtype=torch.long, device=lm.device), suffix_mask], dim=1)
    positions = prefix.length + (suffix_mask.cumsum(-1) - 1).clamp(min=0)
    cache = branch_cache(lm, prefix, row_photos)
    with torch.inference_mode():
        output = lm.model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
            **cache_argument(lm, cache),
        )
        logits = output.logits[:, -1, :]
        if not all_logits:
            score_ids = torch.as_tensor(lm.spec.aesthetic_token_ids, device=logits.device)
            logits = logits.index_select(-1, score_ids)
    next_positions = positions[:, -1] + 1
    return Branch(cache=cache, attention_mask=mask, next_positions=next_positions, last_logits=logits)
