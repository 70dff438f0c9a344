"""The driver of a Ray scoring run: select, stream batches through prepare tasks and actors, write as they land.

Each batch is one ``prepare_batch`` task whose result goes straight to an actor's ``score`` (Ray hands the
object over; the driver never holds prepared pixels), and only the small results come back. At most
``ActorPlan.window`` batches are in flight, so memory stays bounded however big the catalog. Each finished batch
is written in one transaction by the local pipeline's ``store_batch``, and the selection is the local pipeline's
``select_photos``: a run stopped at any point is resumed by the next one. An actor that dies (its node lost, or
killed) costs only the batches it held: they go to another actor, with a replacement started for it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.errors import ArtiMuseError
from artimuse_desktop.scoring.cluster.connect import import_ray
from artimuse_desktop.scoring.cluster.plan import ActorPlan, plan_actors, worker_env
from artimuse_desktop.scoring.cluster.workers import BackendSpec, ScoringActor, build_backend, prepare_batch
from artimuse_desktop.scoring.pipeline import (
    ProgressCallback,
    ScoringSummary,
    progress_of,
    select_photos,
    store_batch,
)
from artimuse_desktop.scoring.types import PhotoInput, ScoreResult

log = logging.getLogger(__name__)

WAIT_S = 0.2  # how often the loop looks at the cancel token while batches are in flight
PREPARE_RETRIES = 3  # a prepare task whose worker died is run again by Ray this many times


@dataclass
class _Flight:
    """One batch on its way: the photos, its prepared object (kept for a resubmission) and the actor."""

    items: list[PhotoInput]
    prepared: Any = None
    actor: Any = None


def _task_error(exc: BaseException) -> BaseException:
    """The exception a remote call raised, unwrapped from Ray's RayTaskError where possible."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else exc


class RayScoringRun:
    """One ``score --ray`` run on the cluster this process is connected to (``connect.connect``)."""

    def __init__(
        self,
        catalog: Catalog,
        spec: BackendSpec,
        *,
        batch_size: int = 8,
        rescore: bool = False,
        retry_failed: bool = False,
        photo_ids: Sequence[int] | None = None,
        actors: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        self.catalog = catalog
        self.spec = spec
        self.batch_size = max(1, batch_size)
        self.rescore = rescore
        self.retry_failed = retry_failed
        self.photo_ids = photo_ids
        self.requested_actors = actors
        self.progress = progress
        self.cancel = cancel or CancelToken()
        self.actors: list[Any] = []  # the live actors (a test may kill one mid-run)
        self.resubmitted = 0  # batches sent again because their actor died
        self.replaced = 0  # actors started in place of dead ones
        self.plan: ActorPlan | None = None
        self._ray: Any = None
        self._describe: dict[int, Any] = {}  # the actors' describe calls until one answered

    # -- set-up ----------------------------------------------------------------------------------------------

    def _select(self, name: str, version: str) -> list[PhotoInput]:
        return select_photos(
            self.catalog,
            name,
            version,
            rescore=self.rescore,
            retry_failed=self.retry_failed,
            photo_ids=self.photo_ids,
        )

    def _new_actor(self) -> Any:
        return self._actor_class.remote(self.spec, self.batch_size)

    def _start(self) -> list[Any]:
        """Start the actors (each loads the model in the background); returns their ``describe`` calls."""
        ray = self._ray
        nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
        self.plan = plan = plan_actors(ray.cluster_resources(), nodes, self.spec, self.requested_actors)
        env = worker_env(self.spec)
        runtime_env = {"env_vars": env} if env else None
        # Actors are not restarted by Ray: the driver resubmits their batches and starts replacements itself.
        self._actor_class = ray.remote(ScoringActor).options(
            num_cpus=plan.num_cpus, num_gpus=plan.num_gpus, max_restarts=0, runtime_env=runtime_env
        )
        self._prepare = ray.remote(prepare_batch).options(
            num_cpus=1, max_retries=PREPARE_RETRIES, runtime_env=runtime_env
        )
        self.actors = [self._new_actor() for _ in range(plan.count)]
        return [actor.describe.remote() for actor in self.actors]

    def _described(self, calls: list[Any]) -> tuple[str, str]:
        """The (name, version) every actor reports once its model is loaded; a clear error if one failed."""
        ray = self._ray
        try:
            described = ray.get(calls)
        except ray.exceptions.RayError as exc:
            cause = _task_error(exc)
            if isinstance(cause, ArtiMuseError):
                raise cause from None
            raise ArtiMuseError(f"the scoring actors could not start on the Ray cluster: {cause}") from exc
        if len(set(described)) != 1:
            raise ArtiMuseError(f"the scoring actors loaded different models: {sorted(set(described))}")
        name, version = described[0]
        return str(name), str(version)

    def _stop(self) -> None:
        for actor in self.actors:
            try:
                self._ray.kill(actor)
            except Exception:  # already dead
                log.debug("actor already gone", exc_info=True)
        self.actors = []

    # -- the run ---------------------------------------------------------------------------------------------

    def run(self) -> ScoringSummary:
        """Score every photo that needs it; returns what happened (``cancelled`` when stopped early)."""
        self._ray = import_ray()
        started = time.perf_counter()
        expected = build_backend(self.spec, load=False)  # name and version without loading any weights
        items = self._select(expected.name, expected.version)
        if not items and self.spec.quantize == "none":
            return ScoringSummary(model=expected.name, version=expected.version)
        try:
            calls = self._start()
            if self.spec.quantize == "none":
                # The version is known without the weights: prepare starts while the actors load the model,
                # and the version of the actor that scored the first batch is checked before it is written.
                self._describe = dict(zip(map(id, self.actors), calls, strict=True))
                name, version = expected.name, expected.version
            else:
                name, version = self._described(calls)  # quantised weights have a version of their own
                items = self._select(name, version)
            summary = ScoringSummary(model=name, version=version, total=len(items))
            if items:
                self._stream(items, summary, started)
        finally:
            self._stop()
        summary.elapsed_s = time.perf_counter() - started
        return summary

    def _check_version(self, actor: Any, summary: ScoringSummary) -> None:
        """Once per run: the actor that scored the first batch loaded the model version the photos were
        selected for (it ran ``describe`` before ``score``, so the answer is there already)."""
        call = self._describe.pop(id(actor), None)
        if call is None:
            return
        self._describe.clear()
        described = self._described([call])
        if described != (summary.model, summary.version):
            raise ArtiMuseError(f"the scoring actors loaded {described[0]} {described[1]}, not {summary.version}")

    def _report(self, summary: ScoringSummary, started: float, current: str | None) -> None:
        if self.progress is not None:
            self.progress(progress_of(summary, started, current, self.batch_size))

    def _stream(self, items: list[PhotoInput], summary: ScoringSummary, started: float) -> None:
        ray = self._ray
        assert self.plan is not None
        waiting = deque(_Flight(items[i : i + self.batch_size]) for i in range(0, len(items), self.batch_size))
        in_flight: dict[Any, _Flight] = {}
        self._report(summary, started, None)
        while waiting or in_flight:
            if self.cancel.cancelled:
                summary.cancelled = True
                break
            while waiting and len(in_flight) < self.plan.window and not self.cancel.paused:
                flight = waiting.popleft()
                in_flight[self._submit(flight, in_flight)] = flight
            if not in_flight:
                self.cancel.wait_if_paused(WAIT_S)
                continue
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=WAIT_S)
            for ref in ready:
                flight = in_flight.pop(ref)
                results = self._collect(ref, flight)
                if results is None:
                    waiting.appendleft(flight)  # its actor died: send it again, first
                    continue
                if self.cancel.cancelled:
                    break
                self._check_version(flight.actor, summary)
                store_batch(self.catalog, summary, list(zip(flight.items, results, strict=True)))
                self._report(summary, started, flight.items[-1].path)
        for ref, flight in in_flight.items():
            for pending in (ref, flight.prepared):
                try:
                    ray.cancel(pending)
                except Exception:  # finished already, or an actor call Ray cannot cancel
                    log.debug("could not cancel a task", exc_info=True)

    def _submit(self, flight: _Flight, in_flight: dict[Any, _Flight]) -> Any:
        """Send a batch to the least busy live actor (preparing it first unless it was prepared already)."""
        if flight.prepared is None:
            flight.prepared = self._prepare.remote(self.spec, flight.items)
        load = {id(actor): 0 for actor in self.actors}
        for other in in_flight.values():
            if id(other.actor) in load:
                load[id(other.actor)] += 1
        flight.actor = min(self.actors, key=lambda actor: load[id(actor)])
        return flight.actor.score.remote(flight.prepared, flight.items)

    def _collect(self, ref: Any, flight: _Flight) -> list[ScoreResult] | None:
        """The batch's results; None when its actor died (the batch is to be resubmitted)."""
        ray = self._ray
        try:
            results: list[ScoreResult] = ray.get(ref)
            return results
        except ray.exceptions.RayActorError as exc:
            self._lose(flight.actor, exc)
            self.resubmitted += 1
            return None
        except ray.exceptions.RayError as exc:
            # The batch itself failed (its prepare task crashed every retry, or the actor raised): record it for
            # each photo, as the local pipeline records a photo that fails, and go on.
            reason = f"failed on the Ray cluster: {_task_error(exc)}"
            log.warning("a batch of %d photos %s", len(flight.items), reason)
            return [ScoreResult(error=reason) for _ in flight.items]

    def _lose(self, actor: Any, exc: BaseException) -> None:
        """Forget a dead actor and start a replacement, up to a limit (a model that kills every actor stops)."""
        if not any(actor is live for live in self.actors):
            return  # already handled for one of its other batches
        if getattr(exc, "actor_init_failed", False):  # a replacement would fail to load the model the same way
            raise ArtiMuseError(f"a scoring actor could not start on the Ray cluster: {exc}") from exc
        self.actors = [live for live in self.actors if live is not actor]
        assert self.plan is not None
        if self.replaced >= 2 * self.plan.count:
            if not self.actors:
                raise ArtiMuseError(f"every scoring actor on the Ray cluster died; the last: {exc}")
            return
        log.warning("a scoring actor died (%s); starting another", exc)
        self.replaced += 1
        self.actors.append(self._new_actor())
