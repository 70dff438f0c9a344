"""One local Ray cluster on 127.0.0.1 for the whole session (2 CPUs, no dashboard), shared by the Ray tests.

The cluster runs in a short temporary folder of its own (Ray's sockets live there and have a path limit), so it
never meets a cluster started with ``ray start --head`` on the same machine, and it is shut down after the
session. Without ray the tests skip with the reason, except in CI, where they must run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

# The tiny ArtiMuse checkpoint, installed with `models add` once per session, as the ArtiMuse tests do.
from tests.artimuse.conftest import expected, tiny_backend, tiny_store  # noqa: F401


def _require_ray() -> None:
    if importlib.util.find_spec("ray") is None:
        message = "ray is not installed (pip install 'artimuse-desktop[studio]')"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must run the Ray tests", pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """The ray module, connected to a fresh local cluster of 2 CPUs on 127.0.0.1."""
    _require_ray()
    import ray

    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        _temp_dir=temp_dir,
        log_to_driver=False,
        namespace="artimuse",
    )
    try:
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(temp_dir, ignore_errors=True)
