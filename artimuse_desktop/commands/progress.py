"""A plain-text progress line on stderr for long commands; redraws in place on a terminal, logs lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from artimuse_desktop.formatting import format_duration


class ProgressLine:
    """``[#####-----] 120/400 30% 12.3 photos/s ETA 00:22 name.jpg``; throttled to ~10 redraws a second."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 24) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = self.stream.isatty()
        self._last = 0.0
        self._last_percent = -1

    def update(
        self,
        done: int,
        total: int,
        rate: float | None = None,
        eta_s: float | None = None,
        current: str | None = None,
    ) -> None:
        now = time.monotonic()
        percent = int(100 * done / total) if total else 100
        if self.tty:
            if now - self._last < 0.1 and done < total:
                return
        elif percent // 10 == self._last_percent // 10 and done < total:
            return  # on a log, one line per 10 %
        self._last, self._last_percent = now, percent
        filled = int(self.width * done / total) if total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        parts = [f"{self.label} [{bar}] {done}/{total} {percent:3d}%"]
        if rate:
            parts.append(f"{rate:.1f} photos/s")
        if eta_s is not None and done < total:
            parts.append(f"ETA {format_duration(eta_s)}")
        line = " ".join(parts)
        if self.tty:
            name = (current or "")[-40:]
            self.stream.write("\r\x1b[2K" + line + (f" {name}" if name else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
