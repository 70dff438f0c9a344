"""One prefix per photo: the system turn and the image are prefilled once, every prompt branches from there.

Every prompt the app sends (the score prompt, the 8 critique prompts, the experimental attribute-score
prompts) starts with the same tokens: the system turn, the user turn's start and the image (``<img>``, the
``<IMG_CONTEXT>`` run, ``</img>``). That common part is about half of each prompt and almost all of its cost.
Here it goes through the language model once per photo into a KV cache; each prompt then prefills only its own
suffix. The split is taken on token ids (the longest run of ids common to all the app's prompts, never the
whole of any one of them), so every prompt sees exactly the tokens and positions it would see alone; only
float rounding differs, far inside the fidelity bars.

The suffixes of one photo are packed into ONE row after its prefix, with no padding: first what they still
have in common (the critiques share ``Please evaluate ... aspect of``), once, then each suffix's own ending
(long suffixes, such as the experimental score prompts, fill several packed rows of up to ``PACK_TOKENS``,
their common text then prefilled once before).
A 4D attention mask lets every ending see the prefix, the common text and itself (causally), never another
ending; position ids restart at the same offset for every ending, so each sees the positions it would see
alone. The logits are read at each ending's last token. For decoding, each prompt then gets its own cache
row (``prefix | common | pad.. | ending``, the pads masked), so every row ends on the last column and greedy
decoding goes on exactly as for a prompt prefilled whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.artimuse import prompts
from artimuse_desktop.scoring.artimuse.model import LoadedModel

PACKABLE_ATTENTION = ("eager", "sdpa")  # take an additive float 4D mask as it is
PACK_TOKENS = 512  # endings per packed row up to this many tokens: attention grows with the square of a row


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

    cache: Any  # DynamicCache, one row per suffix, extended by decoding (None: logits only)
    attention_mask: Any  # [rows, cached length]: prefix ones, masked pads, suffix ones (None: logits only)
    next_positions: Any  # [rows] the position id of each row's next token (None: logits only)
    last_logits: Any  # [rows, vocab] logits at each row's last prompt token


@dataclass
class Packed:
    """The suffixes of each photo packed into one row (host tensors): what the packed pass needs."""

    photos: list[int]  # packed row g holds the suffixes of photo photos[g]
    input_ids: Any  # [groups, width] common text, then every ending; right-padded to the widest row
    positions: Any  # [groups, width] position ids: each ending restarts after the common text
    segments: Any  # [groups, width] 0: common text, k + 1: the row's k-th ending, -1: padding
    keep: Any  # [groups, most endings] column of each ending's last token (repeated to fill a short row)
    row_group: Any  # [suffixes] the packed row of each suffix
    row_slot: Any  # [suffixes] its column in ``keep``
    spans: list[tuple[int, int]]  # per suffix: its ending's columns [start, end) in its packed row
    common: int  # tokens of common text at the start of every packed row


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


def keep_prefix(lm: LoadedModel, ids: Sequence[int], cache: Any) -> Prefix:
    """The prefix part of a one-row cache filled by a whole prompt ``ids`` (causal: the prefix's keys and
    values do not depend on what follows it)."""
    from transformers import DynamicCache

    shared = prefix_ids(lm)
    if tuple(ids[: len(shared)]) != shared or len(ids) <= len(shared):
        raise ModelError("the prompt does not start with the shared prefix")
    data = [(layer.keys[:, :, : len(shared)], layer.values[:, :, : len(shared)]) for layer in cache.layers]
    return Prefix(ids=shared, cache=DynamicCache(data, config=lm.model.config), photos=1)


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


def plan_rows(
    rows: Sequence[Sequence[int]], row_photos: Sequence[int], common: int, budget: int = PACK_TOKENS
) -> list[tuple[int, list[int]]]:
    """Which suffixes share a packed row: per photo, in order, as many endings as fit in ``budget`` tokens
    (at least one). Returns (photo, suffix indexes) per packed row."""
    if len(rows) != len(row_photos) or not rows:
        raise ValueError(f"{len(rows)} suffixes for {len(row_photos)} photo indexes")
    members: dict[int, list[int]] = {}
    for r, photo in enumerate(row_photos):
        members.setdefault(int(photo), []).append(r)
    chunks: list[tuple[int, list[int]]] = []
    for photo, group in members.items():
        chunk: list[int] = []
        used = 0
        for r in group:
            size = len(rows[r]) - common
            if chunk and used + size > budget:
                chunks.append((photo, chunk))
                chunk, used = [], 0
            chunk.append(r)
            used += size
        chunks.append((photo, chunk))
    return chunks


def pack_suffixes(
    rows: Sequence[Sequence[int]], chunks: Sequence[tuple[int, Sequence[int]]], common: int, pad: int
) -> Packed:
    """One packed row per chunk: the suffixes' first ``common`` ids once, then each one's ending (no padding
    between them); the packed rows are right-padded with ``pad`` to the widest."""
    import torch

    spans: list[tuple[int, int]] = [(0, 0)] * len(rows)
    packed: list[list[int]] = []
    segments: list[list[int]] = []
    offsets: list[list[int]] = []
    for _photo, group in chunks:
        ids, seg, off = list(rows[group[0]][:common]), [0] * common, list(range(common))
        for k, r in enumerate(group):
            ending = list(rows[r][common:])
            spans[r] = (len(ids), len(ids) + len(ending))
            ids += ending
            seg += [k + 1] * len(ending)
            off += range(common, common + len(ending))
        packed.append(ids)
        segments.append(seg)
        offsets.append(off)
    width = max(len(ids) for ids in packed)
    most = max(len(group) for _photo, group in chunks)
    input_ids = torch.full((len(packed), width), pad, dtype=torch.long)
    segment = torch.full((len(packed), width), -1, dtype=torch.long)
    positions = torch.zeros((len(packed), width), dtype=torch.long)
    keep = torch.zeros((len(packed), most), dtype=torch.long)
    row_group = torch.zeros(len(rows), dtype=torch.long)
    row_slot = torch.zeros(len(rows), dtype=torch.long)
    for g, (_photo, group) in enumerate(chunks):
        n = len(packed[g])
        input_ids[g, :n] = torch.tensor(packed[g], dtype=torch.long)
        segment[g, :n] = torch.tensor(segments[g], dtype=torch.long)
        positions[g, :n] = torch.tensor(offsets[g], dtype=torch.long)
        for k, r in enumerate(group):
            row_group[r], row_slot[r] = g, k
        ends = [spans[r][1] - 1 for r in group]
        keep[g] = torch.tensor(ends + [ends[-1]] * (most - len(ends)), dtype=torch.long)
    photos = [photo for photo, _group in chunks]
    return Packed(photos, input_ids, positions, segment, keep, row_group, row_slot, spans, common)


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


def packed_mask(pack: Packed, start: int, dtype: Any) -> Any:
    """The additive ``[groups, 1, width, start + width]`` mask of a packed pass (0 seen, dtype's min not): every
    token sees the prefix; the common text sees itself causally; an ending sees the common text and itself
    causally, never another ending; padding is never seen."""
    import torch

    segment = pack.segments
    groups, width = segment.shape
    query, key = segment.unsqueeze(-1), segment.unsqueeze(-2)
    causal = torch.ones((width, width), dtype=torch.bool).tril()
    seen = causal & (key >= 0) & ((key == 0) | (key == query))
    seen = torch.cat([torch.ones((groups, width, start), dtype=torch.bool), seen], dim=-1)
    mask = torch.zeros(seen.shape, dtype=dtype)
    mask.masked_fill_(~seen, torch.finfo(dtype).min)
    return mask.unsqueeze(1)


def attention_implementation(lm: LoadedModel) -> str:
    """The language model's attention implementation; a packed pass needs one that takes a 4D float mask."""
    config = lm.model.config
    text_config = getattr(config, "text_config", None) or config
    name = str(getattr(text_config, "_attn_implementation", None) or getattr(config, "_attn_implementation", ""))
    if name not in PACKABLE_ATTENTION:
        raise ModelError(
            f"the shared prefix needs {' or '.join(PACKABLE_ATTENTION)} attention, not {name!r}",
            hint="load the model with attn_implementation='sdpa' or 'eager'",
        )
    return name


def run_suffixes(
    lm: LoadedModel,
    prefix: Prefix,
    texts: Sequence[str],
    row_photos: Sequence[int],
    all_logits: bool = True,
    decode: bool = True,
) -> Branch:
    """Prefill each prompt's suffix against its photo's prefix: one packed row per photo, one forward pass.

    ``all_logits`` False keeps only the 101 score tokens' logits (``last_logits`` is then ``[rows, 101]``);
    ``decode`` False skips the per-row cache (the score needs only the logits).
    """
    import torch

    attention_implementation(lm)
    rows = suffixes(lm, prefix, texts)
    common = common_prefix(rows) if len(rows) > 1 else 0
    chunks = plan_rows(rows, row_photos, common)
    if common and len(chunks) > len({photo for photo, _group in chunks}):
        # a photo needs several packed rows: prefill what all suffixes share once, not in each of them
        prefix = extend(lm, prefix, rows[0][:common])
        rows = [r[common:] for r in rows]
        common = 0
    pack = pack_suffixes(rows, chunks, common, lm.spec.eos_token_id)
    device, start = lm.device, prefix.length
    cache = branch_cache(lm, prefix, pack.photos)
    mask = packed_mask(pack, start, lm.compute_dtype).to(device)
    with torch.inference_mode():
        output = lm.model(
            input_ids=pack.input_ids.to(device),
            attention_mask=mask,
            position_ids=(pack.positions + start).to(device),
            use_cache=True,
            logits_to_keep=pack.keep.to(device),
            **cache_argument(lm, cache),
        )
        logits = output.logits  # [packed rows, kept columns, vocab]
        if not all_logits:
            score_ids = torch.as_tensor(lm.spec.aesthetic_token_ids, device=logits.device)
            logits = logits.index_select(-1, score_ids)
        logits = logits[pack.row_group.to(logits.device), pack.row_slot.to(logits.device)]
    if not decode:
        return Branch(cache=None, attention_mask=None, next_positions=None, last_logits=logits)
    return unpack(lm, pack, cache, start, logits)


def run_whole(
    lm: LoadedModel, image_features: Any, texts: Sequence[str], decode: bool = True
) -> tuple[Branch, Prefix] | None:
    """One photo's prompts WHOLE in a single packed pass (image, common text once, then every ending): the
    Branch and the photo's prefix cut from the cache for later prompts. None when the endings do not fit one
    packed row (then prefill the prefix and ``run_suffixes``)."""
    import torch
    from transformers import DynamicCache

    attention_implementation(lm)
    shared = prefix_ids(lm)
    rows = [lm.encode(text) for text in texts]
    if any(row[: len(shared)] != shared or len(row) <= len(shared) for row in rows):
        raise ModelError("a prompt does not start with the shared prefix")
    common = common_prefix(rows)  # one prompt: all of it but its last token
    chunks = plan_rows(rows, [0] * len(rows), common)
    if len(chunks) > 1:
        return None
    pack = pack_suffixes(rows, chunks, common, lm.spec.eos_token_id)
    input_ids = pack.input_ids.to(lm.device)
    cache = DynamicCache(config=lm.model.config)
    with torch.inference_mode():
        embeds = lm.model.get_input_embeddings()(input_ids)
        selected = input_ids == lm.spec.image_token_id  # in the common text, once
        embeds[selected] = image_features.to(embeds.device, embeds.dtype).reshape(-1, embeds.shape[-1])
        output = lm.model(
            inputs_embeds=embeds,
            attention_mask=packed_mask(pack, 0, lm.compute_dtype).to(lm.device),
            position_ids=pack.positions.to(lm.device),
            use_cache=True,
            logits_to_keep=pack.keep.to(lm.device),
            **cache_argument(lm, cache),
        )
        logits = output.logits[pack.row_group.to(output.logits.device), pack.row_slot.to(output.logits.device)]
    kept = keep_prefix(lm, rows[0], cache)
    if not decode:
        return Branch(cache=None, attention_mask=None, next_positions=None, last_logits=logits), kept
    return unpack(lm, pack, cache, 0, logits), kept


def unpack(lm: LoadedModel, pack: Packed, cache: Any, start: int, logits: Any) -> Branch:
    """One cache row per suffix from the packed pass: ``prefix | common | pad.. | ending`` (a copy of the
    prefix and common KV and of that ending's KV slice), so every row ends on the last column."""
    import torch
    from transformers import DynamicCache

    shared = start + pack.common
    lengths = [end - begin for begin, end in pack.spans]
    longest = max(lengths)
    width = shared + longest
    index = torch.zeros((len(lengths), width), dtype=torch.long)
    mask = torch.zeros((len(lengths), width), dtype=torch.long)
    index[:, :shared] = torch.arange(shared)
    mask[:, :shared] = 1
    for r, (begin, end) in enumerate(pack.spans):
        index[r, width - (end - begin) :] = torch.arange(start + begin, start + end)
        mask[r, width - (end - begin) :] = 1
    data = []
    for layer in cache.layers:
        keys, values = layer.keys, layer.values
        rows = pack.row_group.to(keys.device)
        gather = index.to(keys.device)[:, None, :, None].expand(-1, keys.shape[1], -1, keys.shape[-1])
        data.append(
            (
                keys.index_select(0, rows).gather(2, gather),
                values.index_select(0, rows).gather(2, gather),
            )
        )
    next_positions = torch.tensor([shared + n for n in lengths], dtype=torch.long, device=lm.device)
    return Branch(
        cache=DynamicCache(data, config=lm.model.config),
        attention_mask=mask.to(lm.device),
        next_positions=next_positions,
        last_logits=logits,
    )
