"""The decoding cache (``decode_cache``): the same keys and values as transformers' own cache after every
step (its room running out on the way, rows leaving the batch), written in place between copies."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model


def _caches(rows: int = 3, length: int = 5):  # type: ignore[no-untyped-def]
    import torch
    from transformers import DynamicCache

    torch.manual_seed(0)
    data = [(torch.randn(rows, 2, length, 4), torch.randn(rows, 2, length, 4)) for _ in range(2)]
    plain = DynamicCache([(k.clone(), v.clone()) for k, v in data])
    from artimuse_desktop.scoring.artimuse import decode_cache

    roomy = decode_cache.with_room(DynamicCache([(k.clone(), v.clone()) for k, v in data]), room=3)
    return plain, roomy


def _same(plain, roomy) -> None:  # type: ignore[no-untyped-def]
    import torch

    assert plain.get_seq_length() == roomy.get_seq_length()
    for a, b in zip(plain.layers, roomy.layers, strict=True):
        assert torch.equal(a.keys, b.keys) and torch.equal(a.values, b.values)


def test_steps_give_the_plain_cache_numbers_and_copy_only_when_room_runs_out() -> None:
    import torch

    plain, roomy = _caches()
    assert type(roomy.layers[0]).__name__ == "RoomyLayer"
    stores = []
    for step in range(8):
        rows = 3 if step < 4 else 2
        if step == 4:  # a critique ended: its row leaves the batch
            index = torch.tensor([0, 2])
            plain.batch_select_indices(index)
            roomy.batch_select_indices(index)
        for layer in range(2):
            k, v = torch.randn(rows, 2, 1, 4), torch.randn(rows, 2, 1, 4)
            out_plain = plain.update(k, v, layer)
            out_roomy = roomy.update(k.clone(), v.clone(), layer)
            assert torch.equal(out_plain[0], out_roomy[0]) and torch.equal(out_plain[1], out_roomy[1])
        stores.append(roomy.layers[0].key_store.data_ptr())
        _same(plain, roomy)
    # room for 3: steps 0-2 in place, a copy at step 3 (full), a new store when a row left (step 4), ...
    assert stores[0] == stores[1] == stores[2] != stores[3]
    assert len(set(stores)) <= 4


def test_a_prefill_longer_than_the_room_and_a_crop() -> None:
    import torch

    plain, roomy = _caches()
    k, v = torch.randn(3, 2, 7, 4), torch.randn(3, 2, 7, 4)  # more positions at once than the room
    plain.update(k, v, 0)
    roomy.update(k.clone(), v.clone(), 0)
    plain.update(k[..., :2, :], v[..., :2, :], 1)
    roomy.update(k[..., :2, :].clone(), v[..., :2, :].clone(), 1)
    _same(plain, roomy)
    plain.crop(-2)
    roomy.crop(-2)
    _same(plain, roomy)
