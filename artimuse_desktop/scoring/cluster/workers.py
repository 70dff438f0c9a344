"""What runs on the cluster: the batched ``prepare`` task and the scoring actor, as plain Python.

The driver makes them remote (``ray.remote(prepare_batch)``, ``ray.remote(ScoringActor)``) only when a run
starts, so importing this module needs no ray. Only plain data crosses: a ``BackendSpec`` (which model, how to
load it) and ``PhotoInput`` rows (id, path, fingerprint); each worker builds its own backend from the spec and
the model store its environment points at. Prepare failures and scoring failures become the same
``ScoreResult(error=...)`` texts the local pipeline stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from artimuse_desktop.errors import ModelError
from artimuse_desktop.scoring.backend import Backend
from artimuse_desktop.scoring.types import PhotoInput, ScoreResult

#: one prepared photo: (what ``prepare`` returned, None) or (None, why it failed)
Prepared = tuple[Any, str | None]


@dataclass(frozen=True)
class BackendSpec:
    """Which backend, and how to load it: what the CLI's model options say, as plain data."""

    name: str
    device: str = "auto"
    quantize: str = "none"
    experimental_attributes: bool = False

    @property
    def light(self) -> bool:
        """True when ``score_batch`` only hands on what ``prepare`` computed (the built-in analyzer): its
        actor then needs no CPU or GPU of its own."""
        return self.name == "technical"


def build_backend(spec: BackendSpec, *, load: bool) -> Backend:
    """The backend the spec names, loaded (actors) or not (prepare tasks and the driver, which only need
    ``prepare``, the name and the version)."""
    from artimuse_desktop.scoring.registry import create_backend

    backend = create_backend(spec.name)
    if spec.experimental_attributes:
        enable = getattr(backend, "set_experimental_attribute_scores", None)
        if enable is None:
            raise ModelError(
                f"the model {spec.name!r} has no experimental attribute scores", hint="use an ArtiMuse model"
            )
        enable(True)
    if load:
        if spec.quantize != "none":
            backend.load(spec.device, quantize=spec.quantize)  # type: ignore[call-arg]
        else:
            backend.load(spec.device)
    return backend


_preparers: dict[BackendSpec, Backend] = {}


def _preparer(spec: BackendSpec) -> Backend:
    """One unloaded backend per worker process and spec: Ray reuses workers, so this is built once, not per task."""
    backend = _preparers.get(spec)
    if backend is None:
        backend = _preparers[spec] = build_backend(spec, load=False)
    return backend


def prepare_batch(spec: BackendSpec, items: Sequence[PhotoInput]) -> list[Prepared]:
    """A Ray task: ``prepare`` every photo of one batch (one task per batch keeps the per-task cost small)."""
    # The pipeline module (SQLAlchemy, the catalog) is imported here, not at the top: a worker starting up
    # for its first task should not pay for what only the driver uses.
    from artimuse_desktop.scoring.pipeline import failure_reason

    backend = _preparer(spec)
    prepared: list[Prepared] = []
    for item in items:
        try:
            prepared.append((backend.prepare(item), None))
        except Exception as exc:  # one bad photo is recorded, the batch goes on (as in the local pipeline)
            prepared.append((None, failure_reason(exc)))
    return prepared


class ScoringActor:
    """A Ray actor holding one loaded model (on its GPU when the cluster has them); scores prepared batches."""

    def __init__(self, spec: BackendSpec, batch_size: int) -> None:
        from artimuse_desktop.scoring.pipeline import Batcher

        self.backend = build_backend(spec, load=True)
        self.batcher = Batcher(self.backend, batch_size)

    def describe(self) -> tuple[str, str]:
        """(name, version) of the loaded model: what the driver stores the results under."""
        return self.backend.name, self.backend.version

    def score(self, prepared: Sequence[Prepared], items: Sequence[PhotoInput]) -> list[ScoreResult]:
        """One result per item, in order; OOM halves the batch and a failing photo is isolated (``Batcher``)."""
        results: list[ScoreResult | None] = [
            None if error is None else ScoreResult(error=error) for _, error in prepared
        ]
        ready = [i for i, (_, error) in enumerate(prepared) if error is None]
        start = 0
        while start < len(ready):
            chunk = ready[start : start + self.batcher.batch_size]
            scored = self.batcher.score([prepared[i][0] for i in chunk], [items[i] for i in chunk])
            for i, result in zip(chunk, scored, strict=True):
                results[i] = result
            start += len(chunk)
        return [r if r is not None else ScoreResult(error="not scored") for r in results]
