"""The rotating log file, and Python warnings routed into it (never onto the terminal).

Pillow reports odd files through ``warnings``: ``DecompressionBombWarning`` for a big panorama, "Possibly
corrupt EXIF data" for a camera's odd maker note, and so on. Printed, they break into the command line's
output and litter the terminal the GUI was started from, though each is about a file the app already handles
(and names, with the reason, in its own messages). Routed to the log they stay there for a bug report.
Both the command line and the GUI call ``route_warnings`` at start-up; one handler per file is shared, so the
two never rotate the same file twice.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from artimuse_desktop import paths

LOG_FILE_NAME = "artimuse-desktop.log"
WARNINGS_LOGGER = "py.warnings"  # the logger logging.captureWarnings writes to

_handlers: dict[Path, logging.Handler] = {}


def file_handler(directory: Path | None = None) -> logging.Handler | None:
    """The one rotating handler of ``directory``'s log file (made on first use); None when it cannot be made."""
    folder = directory or paths.log_dir()
    target = folder / LOG_FILE_NAME
    existing = _handlers.get(target)
    if existing is not None:
        return existing
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            target, maxBytes=2 * 1024 * 1024, backupCount=5, encoding="utf-8", delay=True
        )
    except OSError as exc:
        logging.getLogger(__name__).debug("cannot write the log in %s: %s", folder, exc)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    _handlers[target] = handler
    return handler


def route_warnings(directory: Path | None = None) -> Path | None:
    """Send every Python warning to the log file only; returns the file (None when none can be written, and
    then warnings are dropped rather than printed)."""
    logging.captureWarnings(True)
    logger = logging.getLogger(WARNINGS_LOGGER)
    logger.propagate = False  # not to the root's stderr handler; the root's file handler would repeat it
    logger.setLevel(logging.WARNING)
    handler = file_handler(directory)
    if handler is None:
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())  # else logging's last resort prints to stderr
        return None
    for old in list(logger.handlers):  # another log folder's file (a test, a second catalog): this one now
        if old is not handler and old in _handlers.values():
            logger.removeHandler(old)
    if handler not in logger.handlers:
        logger.addHandler(handler)
    return Path(getattr(handler, "baseFilename", directory or paths.log_dir()))
