"""Waiting on what a thread is doing, not on the clock: tests see that a run is parked at its pause point from
the thread's live stack, so "nothing happens while paused" is checked without a sleep."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import CodeType, FrameType, FunctionType, MethodType
from typing import Any


def _code(function: Callable[..., object]) -> CodeType:
    target = function.__func__ if isinstance(function, MethodType) else function
    assert isinstance(target, FunctionType), f"{function!r} is not a Python function"
    return target.__code__


def blocked_in(function: Callable[..., object], thread_id: int | None = None) -> bool:
    """Whether a thread (any, or the one whose ident is ``thread_id``) is inside ``function`` right now."""
    code = _code(function)
    frames = sys._current_frames()
    for ident, frame in frames.items():
        if thread_id is not None and ident != thread_id:
            continue
        current: FrameType | None = frame
        while current is not None:
            if current.f_code is code:
                return True
            current = current.f_back
    return False


def wait_until(condition: Callable[[], bool], timeout: float = 20.0, what: str = "the condition") -> None:
    """Poll ``condition`` until it holds (the clock only bounds a hang; it decides nothing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        threading.Event().wait(0.005)


def kill_when_parked(process: Any, marker: Path, what: str, timeout: float) -> None:
    """SIGKILL ``process`` once it wrote ``marker`` (parked at the step under test); fail if it ended first."""
    import pytest

    try:
        wait_until(lambda: marker.exists() or process.poll() is not None, timeout=timeout, what=what)
        if process.poll() is not None:
            _out, err = process.communicate()
            pytest.fail(f"the run ended before {what} (rc {process.returncode}): {err.decode()}")
        process.kill()
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
    assert process.returncode == -9
