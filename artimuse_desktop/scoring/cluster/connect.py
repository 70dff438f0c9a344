"""Finding, joining or starting a Ray cluster for ``score --ray auto|ADDRESS``.

``auto`` joins the cluster named by ``RAY_ADDRESS`` or a head already running on this machine (``ray start
--head``), else starts a local one on 127.0.0.1 for this run only. An explicit ADDRESS must answer: it is probed
with a plain TCP connection first, because ``ray.init`` on an address where nothing listens retries for minutes
instead of saying so.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from types import ModuleType

from artimuse_desktop.errors import ArtiMuseError

log = logging.getLogger(__name__)

#: the port ``ray start --head`` listens on unless told otherwise
DEFAULT_PORT = 6379
PROBE_TIMEOUT_S = 3.0
INSTALL_HINT = "install it with: pip install 'artimuse-desktop[studio]' (or pip install 'ray>=2.40')"


def import_ray() -> ModuleType:
    """The ray module, or a clear error saying how to get it."""
    try:
        import ray
    except ImportError as exc:
        raise ArtiMuseError(
            f"scoring on a Ray cluster needs the Python package ray ({exc})", hint=INSTALL_HINT
        ) from exc
    return ray


@dataclass
class RayConnection:
    """This process's link to a cluster; ``close`` undoes only what ``connect`` did."""

    address: str
    started_local: bool  # this run started the cluster: it ends with it
    joined: bool  # this run called ray.init (False: the caller was connected already)

    def close(self) -> None:
        if self.joined:
            import ray

            ray.shutdown()  # a joined cluster keeps running; a local one started here stops


def _host_port(address: str) -> tuple[str, int]:
    text = address.split("://", 1)[1] if "://" in address else address
    host, _, port = text.rpartition(":")
    if not host:
        return text, DEFAULT_PORT
    try:
        return host.strip("[]"), int(port)
    except ValueError as exc:
        raise ArtiMuseError(f"the Ray address {address!r} is not HOST:PORT", hint="e.g. --ray 10.0.0.5:6379") from exc


def probe(address: str) -> str | None:
    """None when something listens at ``address``, else why not (refused, timed out, unknown host)."""
    host, port = _host_port(address)
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
            return None
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__


def _unreachable(address: str, reason: str, source: str) -> ArtiMuseError:
    return ArtiMuseError(
        f"cannot reach the Ray cluster at {address} ({source}): {reason}",
        hint="start its head there with 'ray start --head', check the address and port, "
        "or use --ray auto to start a local cluster",
    )


def _running_head() -> str | None:
    """RAY_ADDRESS, or the head started on this machine with ``ray start --head``; None when neither."""
    try:
        from ray._private import services

        return services.canonicalize_bootstrap_address("auto")
    except ConnectionError:
        return None
    except (ImportError, AttributeError):  # a Ray without this helper: only the environment variable
        return os.environ.get("RAY_ADDRESS") or None


def _use_saved_token() -> None:
    """Send the token ``ray start`` saved (``~/.ray/auth_token``) when joining a head: Ray 2.5x enables token
    auth for the clusters it starts, but a driver joining one stays unauthenticated unless told."""
    try:
        from ray._private.authentication import authentication_token_setup as auth

        auth.maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
    except (ImportError, AttributeError):  # an older Ray: no token auth to set up
        return
    except Exception:  # a token that cannot be read: joining will say what is wrong
        log.debug("no Ray token set up", exc_info=True)


def _init(ray: ModuleType, source: str = "--ray", **kwargs: object) -> None:
    # Workers' prints would tear the progress line apart; their errors come back as exceptions anyway.
    if kwargs.get("address") != "local":
        _use_saved_token()
    try:
        ray.init(log_to_driver=False, logging_level=logging.WARNING, namespace="artimuse", **kwargs)
    except ConnectionError as exc:  # something answers there, but not a Ray head this driver can join
        raise _unreachable(str(kwargs.get("address")), str(exc), source) from exc


def _current_address(ray: ModuleType) -> str:
    return str(ray.get_runtime_context().gcs_address)


def _same_address(a: str, b: str) -> bool:
    (ha, pa), (hb, pb) = _host_port(a), _host_port(b)
    local = {"localhost", "127.0.0.1", "::1"}
    return pa == pb and (ha == hb or (ha in local and hb in local))


def connect(address: str = "auto", *, num_cpus: int | None = None) -> RayConnection:
    """Join or start a cluster (see the module docstring); ``num_cpus`` sizes a local one (default: all)."""
    ray = import_ray()
    if address != "auto":
        reason = probe(address)
        if reason is not None:
            raise _unreachable(address, reason, "--ray")
    if ray.is_initialized():
        current = _current_address(ray)
        if address != "auto" and not _same_address(address, current):
            raise ArtiMuseError(f"this process is already connected to the Ray cluster at {current}, not {address}")
        return RayConnection(current, started_local=False, joined=False)
    if address != "auto":
        _init(ray, address=address)
        return RayConnection(_current_address(ray), started_local=False, joined=True)
    found = _running_head()
    if found:
        reason = probe(found)
        if reason is None:
            _init(ray, "RAY_ADDRESS" if os.environ.get("RAY_ADDRESS") else "a head running here", address=found)
            return RayConnection(_current_address(ray), started_local=False, joined=True)
        if os.environ.get("RAY_ADDRESS"):
            raise _unreachable(found, reason, "RAY_ADDRESS")
        log.warning("the Ray head recorded at %s does not answer (%s); starting a local cluster", found, reason)
    # address="local": never pick up RAY_ADDRESS or a stale record of a head here.
    _init(ray, address="local", num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1")
    return RayConnection(_current_address(ray), started_local=True, joined=True)
