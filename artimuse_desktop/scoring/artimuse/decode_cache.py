"""The KV cache critiques decode into: room kept ahead of each layer's keys and values, so a decoding step
writes its token in place.

transformers' ``DynamicLayer`` grows by concatenation, which copies the whole cache on every token: for 8
critiques of the 8B model (8 rows of about 600 positions, float32 in a quantised model) that was about 550 MB
copied per token, 34 ms of a 4-bit step of 420 ms. Here a layer copies only when its room runs out, every
``ROOM`` tokens. Each row still holds its own copy of the photo's prefix (``prefix.unpack``): attention reads
the rows as before, and the numbers are the same, to the bit.
"""

from __future__ import annotations

import functools
from typing import Any

ROOM = 128  # positions kept free ahead of a layer's cache: one copy of it per ROOM decoded tokens


def with_room(cache: Any, room: int = ROOM) -> Any:
    """``cache`` (a transformers ``DynamicCache``) with each full-attention layer replaced by one that keeps
    ``room`` positions free ahead; other layers (sliding windows) are left as they are. Returns ``cache``."""
    from transformers.cache_utils import DynamicLayer

    layer_class = _layer_class()
    for index, layer in enumerate(cache.layers):
        if type(layer) is DynamicLayer and layer.is_initialized and layer.keys is not None and layer.keys.numel():
            cache.layers[index] = layer_class(layer.keys, layer.values, room)
    return cache


def _grown(states: Any, length: int, room: int) -> Any:
    """A new store holding ``states[..., :length, :]`` with ``room`` free positions after them."""
    batch, heads, _, width = states.shape
    store = states.new_empty((batch, heads, length + room, width))
    store[..., :length, :] = states[..., :length, :]
    return store


@functools.cache
def _layer_class() -> type:
    """The layer class, defined once transformers is imported (module import must not import it)."""
    from transformers.cache_utils import DynamicLayer

    class RoomyLayer(DynamicLayer):
        """A ``DynamicLayer`` whose keys and values are views of stores with room ahead."""

        def __init__(self, keys: Any, values: Any, room: int) -> None:
            super().__init__()
            self.device = keys.device
            self.is_initialized = True
            self.room = max(1, room)
            self.length = int(keys.shape[-2])
            self.key_store = _grown(keys, self.length, self.room)
            self.value_store = _grown(values, self.length, self.room)
            self._view()

        def _view(self) -> None:
            self.keys = self.key_store[..., : self.length, :]
            self.values = self.value_store[..., : self.length, :]

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
            new = int(key_states.shape[-2])
            if self.key_store is None:  # after reset()
                self.device, self.is_initialized, self.length = key_states.device, True, 0
                self.key_store = _grown(key_states, 0, new + self.room)
                self.value_store = _grown(value_states, 0, new + self.room)
            elif self.length + new > self.key_store.shape[-2]:
                self.key_store = _grown(self.key_store, self.length, max(new, self.room))
                self.value_store = _grown(self.value_store, self.length, max(new, self.room))
            self.key_store[..., self.length : self.length + new, :] = key_states
            self.value_store[..., self.length : self.length + new, :] = value_states
            self.length += new
            self._view()
            return self.keys, self.values

        def get_seq_length(self) -> int:
            return self.length

        def crop(self, tokens_to_remove: int) -> None:
            if tokens_to_remove > 0:
                raise ValueError(f"crop takes a negative number of tokens to remove, not {tokens_to_remove}")
            self.length = max(0, self.length - abs(tokens_to_remove))
            self._view()

        def batch_select_indices(self, indices: Any) -> None:
            self.key_store = self.key_store[indices, ...]  # a new store, its room included
            self.value_store = self.value_store[indices, ...]
            self._view()

        def batch_repeat_interleave(self, repeats: int) -> None:
            self.key_store = self.key_store.repeat_interleave(repeats, dim=0)
            self.value_store = self.value_store.repeat_interleave(repeats, dim=0)
            self._view()

        def reset(self) -> None:
            self.key_store = self.value_store = None
            self.length = 0
            super().reset()

    return RoomyLayer
