"""How many scoring actors, with which resources, and which environment the cluster's workers get.

One model per GPU: on a cluster with GPUs each actor takes ``num_gpus=1``. On a CPU-only cluster a model actor
takes about half a machine's CPUs (one actor per machine), leaving the rest to the ``prepare`` tasks; the
built-in analyzer's actor only hands results on, so it reserves nothing and every CPU prepares.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from artimuse_desktop.errors import ArtiMuseError
from artimuse_desktop.scoring.cluster.workers import BackendSpec

#: batches an actor holds at once: one being scored, one waiting, so it never idles between batches
ACTOR_DEPTH = 2
#: environment the workers need to see what the driver sees; the catalog, cache and logs stay the driver's
FORWARDED_ENV = ("ARTIMUSE_MAX_PIXELS", "ARTIMUSE_BUILD_FLAVOUR", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


@dataclass(frozen=True)
class ActorPlan:
    count: int
    num_cpus: float
    num_gpus: float
    prepare_slots: int  # prepare tasks that can run at once beside the actors

    @property
    def window(self) -> int:
        """Batches in flight: enough to keep every actor and every spare CPU busy, and no more (memory)."""
        return max(ACTOR_DEPTH * self.count, self.prepare_slots + self.count)


def plan_actors(resources: Mapping[str, float], nodes: int, spec: BackendSpec, requested: int | None) -> ActorPlan:
    """Size the actors from ``ray.cluster_resources()``; ``requested`` (``--ray-actors``) overrides the count."""
    cpus = float(resources.get("CPU", 0.0))
    gpus = int(resources.get("GPU", 0.0))
    if requested is not None and requested < 1:
        raise ArtiMuseError("--ray-actors must be at least 1")
    if cpus < 1:
        raise ArtiMuseError("the Ray cluster has no CPU to prepare photos on", hint="start its nodes with --num-cpus")
    if spec.light:
        return ActorPlan(requested or 1, 0.0, 0.0, int(cpus))
    if gpus >= 1:
        count = requested or gpus
        if count > gpus:
            raise ArtiMuseError(f"--ray-actors {count} asks for more GPUs than the Ray cluster has ({gpus})")
        return ActorPlan(count, 1.0, 1.0, max(1, int(cpus) - count))
    count = requested or max(1, nodes)
    per_actor = max(1.0, cpus / count / 2) if cpus >= 2 else 0.0
    per_actor = min(per_actor, (cpus - 1) / count)  # at least one CPU stays free for prepare
    return ActorPlan(count, per_actor, 0.0, max(1, int(cpus - per_actor * count)))


def worker_env(spec: BackendSpec) -> dict[str, str]:
    """Environment variables for the workers and actors (Ray's ``runtime_env``): the model store the driver
    resolved, so an actor loads the same installed model, and the few settings that change results."""
    from artimuse_desktop import paths

    env = {name: os.environ[name] for name in FORWARDED_ENV if os.environ.get(name)}
    if not spec.light:
        env["ARTIMUSE_MODELS_DIR"] = str(paths.models_dir())
    return env
