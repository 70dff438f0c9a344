"""Float32 arithmetic over a bfloat16 model's mapped weights, one block at a time: the reference for drift where
a float32 copy of the 8B model (32 GB) does not fit in memory.

A bf16 weight widens to float32 exactly, so float32 arithmetic over these weights is the same computation as
a float32 load of the same checkpoint. The vision tower and projector (about 0.35 B parameters, 1.4 GB) are
widened once, for good: the model reads its input dtype from its first parameter, so pixels stay float32.
Every other block (each language-model layer, the token table, the final norm, ``lm_head``) is widened by a
forward pre-hook and given back its mapped bf16 tensors by a forward hook: at most one block is in float32 at
a time (the token table and ``lm_head``, 2.2 GB each, are the largest).

Used by ``bench_artimuse_real_shape.py --dtype float32`` when a float32 load would not fit.
"""

from __future__ import annotations

from typing import Any

BLOCK_LIMIT = 1_000_000_000  # parameters: a module this small or smaller is one block


def _count(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def _blocks(module: Any, skip: tuple[Any, ...]) -> list[Any]:
    """The largest called submodules of at most ``BLOCK_LIMIT`` parameters that cover all of ``module``'s (a
    ModuleList is never called: its layers are)."""
    from torch import nn

    if any(module is m for m in skip):
        return []
    if _count(module) <= BLOCK_LIMIT and not isinstance(module, (nn.ModuleList, nn.ModuleDict)):
        return [module]
    blocks = []
    for child in module.children():
        if _count(child):
            blocks += _blocks(child, skip)
    if any(True for _ in module.parameters(recurse=False)):
        raise ValueError(f"{type(module).__name__} holds its own parameters and is too large for one block")
    return blocks


def run_in_float32_blocks(model: Any, permanent: tuple[Any, ...]) -> list[Any]:
    """Make ``model`` compute in float32 over its bf16 weights; ``permanent`` modules widen now and stay so.

    Returns the hook handles (``handle.remove()`` undoes the per-call widening, not the permanent one)."""
    import torch

    for module in permanent:
        module.float()
    permanent_ids = {id(p) for m in permanent for p in m.parameters()}
    handles = []
    for block in _blocks(model, permanent):
        params = [p for p in block.parameters() if id(p) not in permanent_ids]
        if not params:
            continue
        saved: list[Any] = []

        def widen(_module: Any, _args: Any, params: list[Any] = params, saved: list[Any] = saved) -> None:
            saved[:] = [p.data for p in params]
            with torch.inference_mode(False):
                for p in params:
                    p.data = p.data.float()

        def give_back(_m: Any, _args: Any, _out: Any, params: list[Any] = params, saved: list[Any] = saved) -> None:
            for p, data in zip(params, saved, strict=True):
                p.data = data
            saved.clear()

        handles += [block.register_forward_pre_hook(widen), block.register_forward_hook(give_back)]
    return handles
