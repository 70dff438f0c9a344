"""Expert critiques: all requested attributes of one photo decoded together (greedy), streamed.

The image is encoded once and the prompt part every attribute shares (system turn + image) prefilled once
(``prefix``); the attributes' endings are prefilled together in one packed row after it, then each
attribute decodes as one row of a batch, a row leaving the batch when it ends. A streamer splits the tokens
per row and calls ``on_token(attribute, fragment)`` as text becomes final; the CancelToken is checked
between tokens (and waited on while it is paused). The decoding reproduces the authors' ``chat()`` exactly:
their slow tokenizer drops only ``<|endoftext|>``, ``<|im_start|>`` and ``<|im_end|>`` and keeps every
other added token, joins byte-level pieces between added tokens, turns invalid UTF-8 into U+FFFD; then the
text is cut at ``<|im_end|>`` and stripped. Streaming never emits text that could still change, so the
fragments always add up to the final text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.artimuse import decode_cache, prefix, prompts
from artimuse_desktop.scoring.artimuse.devices import oom_guard
from artimuse_desktop.scoring.artimuse.model import LoadedModel
from artimuse_desktop.scoring.artimuse.prefix import Branch, Prefix
from artimuse_desktop.scoring.backend import TokenCallback
from artimuse_desktop.settings import CRITIQUE_TOKENS_DEFAULT, CRITIQUE_TOKENS_LIMIT

log = logging.getLogger(__name__)

DEFAULT_MAX_NEW_TOKENS = CRITIQUE_TOKENS_DEFAULT  # the setting's default: 1024
MAX_NEW_TOKENS_LIMIT = CRITIQUE_TOKENS_LIMIT  # what the authors allow: 8192


@dataclass(frozen=True)
class CritiqueOutput:
    """Per attribute: final text, generated ids, and whether it ended on its own (eos or token limit)."""

    texts: dict[str, str]
    token_ids: dict[str, list[int]]
    finished: dict[str, bool]
    cancelled: bool
    prefix: Prefix | None = field(default=None, compare=False, repr=False)  # the photo's, made by this call

    @property
    def completed(self) -> dict[str, str]:
        """Only the critiques that were not cut short by a cancellation."""
        return {aspect: text for aspect, text in self.texts.items() if self.finished[aspect]}

    @property
    def num_tokens(self) -> int:
        return sum(len(ids) for ids in self.token_ids.values())


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's bytes_to_unicode: which byte each printable vocabulary character stands for."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars, strict=True)}


class ResponseDecoder:
    """ids -> text exactly as the authors' slow Qwen2 tokenizer (``skip_special_tokens``) + split/strip."""

    def __init__(self, tokenizer: Any, dropped_ids: Sequence[int]) -> None:
        self._tokenizer = tokenizer
        self._dropped = set(dropped_ids)
        decoder = getattr(tokenizer, "added_tokens_decoder", {}) or {}
        self._added: dict[int, str] = {int(i): str(getattr(t, "content", t)) for i, t in decoder.items()}
        self._bytes = _byte_decoder()
        self._pieces: dict[int, str | bytes] = {}

    def _piece(self, token_id: int) -> str | bytes:
        """An added token's text (kept as text), or a regular token's bytes."""
        piece = self._pieces.get(token_id)
        if piece is None:
            if token_id in self._added:
                piece = self._added[token_id]
            else:
                token = self._tokenizer.convert_ids_to_tokens(token_id)
                if token is None:
                    piece = b""
                elif all(ch in self._bytes for ch in token):
                    piece = bytes(self._bytes[ch] for ch in token)
                else:  # not a byte-level vocabulary: fall back to the tokenizer's own decoding
                    piece = str(self._tokenizer.decode([token_id]))
            self._pieces[token_id] = piece
        return piece

    def raw_text(self, ids: Sequence[int]) -> str:
        """The decode before split/strip (``decoded_skip_special_tokens`` in the fixture)."""
        parts: list[str] = []
        pending = bytearray()
        for token_id in ids:
            if token_id in self._dropped:
                continue  # skipped without ending the byte run, as the slow tokenizer does
            piece = self._piece(int(token_id))
            if isinstance(piece, bytes):
                pending += piece
            else:
                if pending:
                    parts.append(pending.decode("utf-8", errors="replace"))
                    pending = bytearray()
                parts.append(piece)
        if pending:
            parts.append(pending.decode("utf-8", errors="replace"))
        return "".join(parts)

    def response(self, ids: Sequence[int]) -> str:
        return self.raw_text(ids).split(prompts.IM_END)[0].strip()

    def stable_prefix(self, ids: Sequence[int]) -> str:
        """The part of the response that later tokens cannot change (held back: trailing whitespace, U+FFFD
        from a possibly incomplete UTF-8 sequence, and a possible start of a literal ``<|im_end|>``)."""
        raw = self.raw_text(ids)
        if prompts.IM_END in raw:
            return raw.split(prompts.IM_END)[0].strip()
        text = raw.lstrip()
        while True:
            before = text
            text = text.rstrip().rstrip("\ufffd")
            for cut in range(min(len(prompts.IM_END) - 1, len(text)), 0, -1):
                if prompts.IM_END.startswith(text[-cut:]):
                    text = text[:-cut]
                    break
            if text == before:
                return text


class RowStreamer:
    """A transformers streamer (``put``/``end``) that splits the batch per row and emits text fragments."""

    def __init__(
        self,
        aspects: Sequence[str],
        decoder: ResponseDecoder,
        eos_token_id: int,
        on_token: TokenCallback | None,
    ) -> None:
        self.aspects = list(aspects)
        self.decoder = decoder
        self.eos = eos_token_id
        self.on_token = on_token
        self.ids: list[list[int]] = [[] for _ in self.aspects]
        self.ended = [False] * len(self.aspects)
        self.emitted = [""] * len(self.aspects)

    def put(self, value: Any) -> None:
        if value.ndim != 1:
            return  # the prompt (empty when generating from embeddings)
        for row, token in enumerate(value.tolist()):
            if self.ended[row]:
                continue
            if token == self.eos:
                self.ended[row] = True
                continue
            self.ids[row].append(int(token))
            if self.on_token is not None:
                self._emit(row, self.decoder.stable_prefix(self.ids[row]))

    def _emit(self, row: int, text: str) -> None:
        done = self.emitted[row]
        if len(text) > len(done) and text.startswith(done):
            self.emitted[row] = text
            assert self.on_token is not None
            self.on_token(self.aspects[row], text[len(done) :])

    def end(self) -> None:
        if self.on_token is None:
            return
        for row in range(len(self.aspects)):
            final = self.decoder.response(self.ids[row])
            if not final.startswith(self.emitted[row]):
                log.warning("streamed critique text for %s differs from the final text", self.aspects[row])
            self._emit(row, final)


def critique_image(
    lm: LoadedModel,
    pixel_values: Any,
    aspects: Sequence[str] = prompts.ASPECTS,
    on_token: TokenCallback | None = None,
    cancel: CancelToken | None = None,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    shared: Prefix | None = None,
) -> CritiqueOutput:
    """Critique one photo (``[3, H, W]`` or ``[1, 3, H, W]``) for each aspect, all rows decoded together.

    The image is encoded and the prompts go through in one pass, the shared prefix and the common text once
    and each aspect's ending packed after them (the photo's prefix comes back as ``prefix`` for later
    prompts); or ``shared``, a one-photo Prefix already prefilled, e.g. by the score, is branched.
    """
    import numpy as np
    import torch

    check_max_new_tokens(max_new_tokens)
    aspects = list(aspects)
    if not aspects:
        return CritiqueOutput({}, {}, {}, cancelled=False)
    if cancel is not None and cancel.cancelled:
        return CritiqueOutput(
            {a: "" for a in aspects}, {a: [] for a in aspects}, {a: False for a in aspects}, cancelled=True
        )
    spec = lm.spec
    texts = [prompts.attribute_query(a, spec.num_image_token, spec.system_message) for a in aspects]
    decoder = ResponseDecoder(lm.tokenizer, spec.dropped_token_ids)
    streamer = RowStreamer(aspects, decoder, spec.eos_token_id, on_token)
    made: Prefix | None = None
    with lm.lock, oom_guard(lm.device, f"critiquing {len(aspects)} attributes"):
        whole = None
        if shared is None:
            tensor = torch.from_numpy(pixel_values) if isinstance(pixel_values, np.ndarray) else pixel_values
            if tensor.ndim == 3:
                tensor = tensor.unsqueeze(0)
            features = lm.image_features(tensor)
            whole = prefix.run_whole(lm, features, texts)  # image, prefix and endings in one pass
            if whole is None:  # endings too long for one packed row
                shared = made = prefix.prefill(lm, features)
        if whole is not None:
            branch, made = whole
        else:
            assert shared is not None
            branch = prefix.run_suffixes(lm, shared, texts, [0] * len(aspects))
        rows, hit_eos = greedy_decode(lm, branch, streamer, max_new_tokens, cancel)
    cancelled = bool(cancel is not None and cancel.cancelled)
    result_texts: dict[str, str] = {}
    result_ids: dict[str, list[int]] = {}
    finished: dict[str, bool] = {}
    for row, aspect in enumerate(aspects):
        ids = rows[row]
        result_ids[aspect] = ids
        result_texts[aspect] = decoder.response(ids)
        finished[aspect] = hit_eos[row] or (len(ids) >= max_new_tokens) or not cancelled
    return CritiqueOutput(result_texts, result_ids, finished, cancelled, prefix=made)


def check_max_new_tokens(value: Any) -> int:
    """The critique length in tokens: a whole number from 1 to MAX_NEW_TOKENS_LIMIT (the authors' 8192)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_NEW_TOKENS_LIMIT:
        raise ModelError(
            f"critique length {value!r} is not a number of tokens from 1 to {MAX_NEW_TOKENS_LIMIT}",
            hint=f"use --max-new-tokens N with 1 <= N <= {MAX_NEW_TOKENS_LIMIT} (default {DEFAULT_MAX_NEW_TOKENS})",
        )
    return value


def greedy_decode(
    lm: LoadedModel,
    branch: Branch,
    streamer: RowStreamer,
    max_new_tokens: int,
    cancel: CancelToken | None,
) -> tuple[list[list[int]], list[bool]]:
    """Greedy decoding (argmax, as the authors' ``chat()`` with ``do_sample=False``) of every row of ``branch``.

    Per row: the ids before ``<|im_end|>`` and whether it came. A row that has ended leaves the batch, so the
    others do not pay for it. Between tokens the cancel token is checked (and waited on while paused).
    """
    import torch

    eos = lm.spec.eos_token_id
    count = int(branch.last_logits.shape[0])
    ids: list[list[int]] = [[] for _ in range(count)]
    ended = [False] * count
    active = list(range(count))  # batch row k is original row active[k]
    cache = decode_cache.with_room(branch.cache)  # each token written in place, not the cache copied
    mask, positions, logits = branch.attention_mask, branch.next_positions, branch.last_logits
    with torch.inference_mode():
        for step in range(max_new_tokens):
            tokens = logits.argmax(dim=-1)
            every_row = torch.full((count,), eos, dtype=torch.long)
            every_row[torch.as_tensor(active)] = tokens.cpu()
            for row in active:
                token = int(every_row[row])
                if token == eos:
                    ended[row] = True
                else:
                    ids[row].append(token)
            streamer.put(every_row)
            if cancel is not None:
                cancel.wait_if_paused()
                if cancel.cancelled:
                    break
            keep = [k for k, row in enumerate(active) if not ended[row]]
            if not keep or step == max_new_tokens - 1:
                break
            if len(keep) < len(active):
                index = torch.as_tensor(keep, device=tokens.device)
                cache.batch_select_indices(index)
                mask, positions, tokens = mask[index], positions[index], tokens[index]
                active = [active[k] for k in keep]
            mask = torch.cat([mask, mask.new_ones((len(active), 1))], dim=1)
            output = lm.model(
                input_ids=tokens.unsqueeze(-1),
                attention_mask=mask,
                position_ids=positions.unsqueeze(-1),
                use_cache=True,
                logits_to_keep=1,
                **prefix.cache_argument(lm, cache),
            )
            positions = positions + 1
            logits = output.logits[:, -1, :]
    streamer.end()
    return ids, ended
