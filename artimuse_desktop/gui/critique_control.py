"""Writing a critique from the side panel: which ArtiMuse model can write one (found once, off the GUI thread),
starting it on the model thread, streaming its words into the panel, and saying why when it cannot."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from artimuse_desktop.gui.side_panel import SidePanel
from artimuse_desktop.gui.tasks import TaskRunner
from artimuse_desktop.gui.workers import SCORE, BackgroundJobs

log = logging.getLogger(__name__)


class CritiqueControl(QObject):
    message = Signal(str, int)  # status-bar text, milliseconds
    error = Signal(str, str)  # text, subject
    finished = Signal(int)  # photo id
    availability_changed = Signal()

    def __init__(
        self,
        jobs: BackgroundJobs,
        panel: SidePanel,
        tasks: TaskRunner,
        device: Callable[[], str],
        photo_name: Callable[[int], str],
        parent: QObject | None = None,
        *,
        length: Callable[[], int | None] = lambda: None,
    ) -> None:
        super().__init__(parent)
        self.jobs, self.panel, self._device, self._photo_name = jobs, panel, device, photo_name
        self._length = length  # the settings' critique length, read when each critique starts
        self.model: str | None = None
        self.reason = "Looking for an ArtiMuse model…"
        self.backend_infos: list[Any] = []
        panel.critique_requested.connect(self.write)
        panel.critique_cancel_requested.connect(lambda: jobs.cancel("critique"))
        jobs.critique_started.connect(panel.begin_critique)
        jobs.critique_token.connect(panel.append_critique)
        jobs.critique_finished.connect(self._finished)
        tasks.submit("backends", find_critique_backend, self.backends_checked)

    def write(self, photo_id: int | None) -> None:
        if photo_id is None:
            return
        if self.model is None:
            self.error.emit(self.panel.critique_button.toolTip(), "")
            return
        if not self.jobs.start_critique(self.model, self._device(), photo_id, self._length()):
            self.message.emit("A critique is already being written", 4000)
            return
        if self.jobs.is_running(SCORE):
            self.message.emit("The critique starts when the scoring run ends", 5000)

    def _finished(self, photo_id: int, texts: object, error: object) -> None:
        if error:
            self.panel.end_critique(photo_id, "")
            self.error.emit(f"Could not write the critique: {error}", self._photo_name(photo_id))
        else:
            written = len(texts) if isinstance(texts, dict) else 0
            self.panel.end_critique(photo_id, "" if written else "Cancelled; nothing was kept.")
        self.finished.emit(photo_id)

    def backends_checked(self, result: tuple[str | None, str, list[Any]]) -> None:
        self.model, self.reason, self.backend_infos = result
        self.panel.set_critique_model(self.model, self.reason)
        self.availability_changed.emit()


def find_critique_backend() -> tuple[str | None, str, list[Any]]:
    """(an available ArtiMuse model or None, why not, every backend's info): cheap, imports no model."""
    try:
        from artimuse_desktop.scoring.registry import list_backends

        infos = list_backends()
    except Exception as exc:
        log.info("model discovery failed: %s", exc)
        return None, "ArtiMuse support is not installed (pip install 'artimuse-desktop[artimuse]').", []
    artimuse = [info for info in infos if info.name == "artimuse" or info.name.startswith("artimuse:")]
    available = [info for info in artimuse if info.available]
    if available:
        return available[0].name, "", infos
    reason = artimuse[0].reason if artimuse else "No ArtiMuse model is installed."
    return None, f"Writing critiques needs an ArtiMuse model: {reason}", infos
