"""Running per-file work on a pool with a bounded queue, pausable and cancellable between files.

Threads by default (the decoders release the GIL); a ``spawn`` process pool on request, since fork is unsafe
with LibRaw's OpenMP and with the GUI's threads.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable, Sequence
from typing import Any

from artimuse_desktop.cancel import CancelToken


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run_parallel(
    items: Sequence[Any],
    function: Callable[[Any], Any],
    *,
    workers: int,
    executor: str,
    cancel: CancelToken | None,
    on_result: Callable[[Any, Any], None],
    on_error: Callable[[Any, BaseException], None],
) -> bool:
    """Run ``function`` over ``items`` with a bounded queue; returns False when cancelled.

    ``on_result`` and ``on_error`` run on the calling thread, so they may write to the catalog.
    """
    if workers <= 1 or len(items) <= 1:
        for item in items:
            if cancel is not None and not cancel.wait_if_paused():
                return False
            try:
                result = function(item)
            except Exception as exc:
                on_error(item, exc)
            else:
                on_result(item, result)
        return True
    pool: cf.Executor
    if executor == "process":
        import multiprocessing

        pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    else:
        pool = cf.ThreadPoolExecutor(workers, thread_name_prefix="artimuse-index")
    queue_limit = workers * 4
    iterator = iter(items)
    pending: dict[cf.Future[Any], Any] = {}
    completed = True
    try:
        while True:
            if cancel is not None and cancel.paused and not pending:
                cancel.wait_if_paused()
            if cancel is not None and cancel.cancelled:
                completed = False
                break
            while len(pending) < queue_limit and not (cancel is not None and cancel.paused):
                item = next(iterator, None)
                if item is None:
                    break
                pending[pool.submit(function, item)] = item
            if not pending:
                break
            done, _ = cf.wait(list(pending), timeout=0.5, return_when=cf.FIRST_COMPLETED)
            for future in done:
                item = pending.pop(future)
                try:
                    result = future.result()
                except Exception as exc:
                    on_error(item, exc)
                else:
                    on_result(item, result)
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
    return completed
