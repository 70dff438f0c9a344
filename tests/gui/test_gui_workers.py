"""Background work: scoring on the long-lived model thread (progress, pause, cancel, model kept loaded),
critiques streamed into the panel, indexing from the welcome view, and clean shutdown."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from artimuse_desktop.cancel import CancelToken
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.scoring.backend import Availability, TokenCallback
from artimuse_desktop.scoring.types import PhotoInput, ScoreResult
from tests.factory import PhotoSpec, add_photos, write_jpeg
from tests.waiting import blocked_in, wait_until

from .conftest import wait_idle


class FakeBackend:
    """A countable backend behind a gate: each batch waits until the test opens ``gate``, so the tests pause,
    cancel and quit mid-run at a point they choose."""

    name = "fake"
    version = "1"
    description = "test backend"
    supports_critique = True

    def __init__(self) -> None:
        self.loads = 0
        self.batches = 0  # score_batch calls begun
        self.gate = threading.Event()
        self.gate.set()

    def availability(self) -> Availability:
        return Availability(True, "test")

    def load(self, device: str = "auto") -> None:
        self.loads += 1

    def unload(self) -> None:
        pass

    def prepare(self, item: PhotoInput) -> Any:
        return item

    def score_batch(self, prepared: Sequence[Any]) -> list[ScoreResult]:
        self.batches += 1
        assert self.gate.wait(30), "the test never opened the gate"
        return [ScoreResult(score=float(item.photo_id)) for item in prepared]

    def critique(
        self,
        item: PhotoInput,
        attributes: Sequence[str],
        on_token: TokenCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> dict[str, str]:
        texts = {}
        for attribute in attributes[:2]:
            for fragment in ("Warm ", "light, ", "calm mood."):
                if on_token is not None:
                    on_token(attribute, fragment)
            texts[attribute] = "Warm light, calm mood."
        return texts


@pytest.fixture
def fake_backend() -> FakeBackend:
    return FakeBackend()


@pytest.fixture
def backend_factory(fake_backend: FakeBackend) -> Any:
    """The window's backends in this module: "fake" is the test's; any other name comes from the registry."""
    from artimuse_desktop.scoring.registry import create_backend

    return lambda name: fake_backend if name == "fake" else create_backend(name)


def assessments(catalog: Catalog, model: str) -> dict[int, float | None]:
    from sqlalchemy import select

    from artimuse_desktop.catalog.models import Assessment

    with catalog.read() as session:
        rows = session.execute(select(Assessment.photo_id, Assessment.score).where(Assessment.model == model)).all()
    return {pid: score for pid, score in rows}


def test_scoring_with_the_technical_backend_reports_progress(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    pytest.importorskip("artimuse_desktop.scoring.technical.backend")
    progress: list[Any] = []
    window.jobs.progress.connect(progress.append)
    with qtbot.waitSignal(window.jobs.finished, timeout=30000) as finished:
        assert window.start_scoring(model="technical")
    result = finished.args[0]
    assert result.job == "score" and not result.cancelled and not result.error, result.message
    assert "Scored 10 photos with technical" in result.message
    done = [p for p in progress if p.total]
    assert done and done[-1].done == done[-1].total == 10
    assert done[-1].rate > 0
    scores = assessments(catalog, "technical")
    assert set(scores) == set(photos) and all(s is not None for s in scores.values())
    assert window.job_widgets["score"].isHidden()  # the status row goes away when the job ends
    wait_idle(qtbot, window)


def test_pause_resume_and_cancel_scoring(
    qtbot: Any, window: Any, catalog: Catalog, tmp_path: Path, fake_backend: FakeBackend
) -> None:
    add_photos(catalog, tmp_path / "many", [PhotoSpec(f"p{i:02d}.jpg") for i in range(40)])
    window.settings.batch_size = 2
    fake_backend.gate.clear()
    assert window.start_scoring(model="fake")
    assert not window.start_scoring(model="fake")  # one scoring run at a time
    qtbot.waitUntil(lambda: fake_backend.batches == 1, timeout=10000)  # the first batch is in the model
    window.job_widgets["score"].pause_button.setChecked(True)  # pause from the status bar
    assert window.jobs.is_paused("score")
    fake_backend.gate.set()
    # the batch in flight finishes and is stored, then the run waits at its pause point
    qtbot.waitUntil(lambda: blocked_in(CancelToken.wait_if_paused), timeout=10000)
    assert fake_backend.batches == 1 and len(assessments(catalog, "fake")) == 2
    fake_backend.gate.clear()
    window.job_widgets["score"].pause_button.setChecked(False)
    qtbot.waitUntil(lambda: fake_backend.batches == 2, timeout=10000)  # resumed: the next batch is in the model
    with qtbot.waitSignal(window.jobs.finished, timeout=10000) as finished:
        window.job_widgets["score"].cancel_button.click()
        fake_backend.gate.set()
    result = finished.args[0]
    assert result.cancelled and "cancelled" in result.message
    assert 0 < len(assessments(catalog, "fake")) < 40
    # the model stays loaded between runs: a second run does not load it again
    with qtbot.waitSignal(window.jobs.finished, timeout=20000) as finished:
        window.start_scoring(model="fake")
    assert not finished.args[0].cancelled
    assert len(assessments(catalog, "fake")) == 40
    assert fake_backend.loads == 1
    wait_idle(qtbot, window)


def test_closing_mid_run_stops_the_threads(
    qtbot: Any, catalog: Catalog, tmp_path: Path, fake_backend: FakeBackend, backend_factory: Any
) -> None:
    from artimuse_desktop.gui.main_window import MainWindow
    from artimuse_desktop.gui.workers import BackgroundJobs, running_threads
    from artimuse_desktop.settings import Settings

    add_photos(catalog, tmp_path / "many", [PhotoSpec(f"p{i:02d}.jpg") for i in range(30)])
    win = MainWindow(
        catalog, Settings(batch_size=1), settings_path=tmp_path / "s.json", backend_factory=backend_factory
    )
    win.show()
    fake_backend.gate.clear()  # the model is "busy" when the user quits
    assert win.start_scoring(model="fake")
    qtbot.waitUntil(lambda: fake_backend.batches == 1)
    gui_thread = threading.get_ident()

    def finish_the_batch_once_the_window_waits() -> None:
        try:
            wait_until(lambda: blocked_in(BackgroundJobs.shutdown, gui_thread), what="the window to shut down jobs")
        finally:
            fake_backend.gate.set()

    opener = threading.Thread(target=finish_the_batch_once_the_window_waits)
    opener.start()
    win.close()
    opener.join()
    assert not running_threads()
    assert (tmp_path / "s.json").exists()  # settings saved on close
    win.deleteLater()


def test_critique_streams_into_the_side_panel(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int], fake_backend: FakeBackend
) -> None:
    window.critiques.backends_checked(("fake", "", []))
    window.reload_view()
    wait_idle(qtbot, window)
    window.grid.select_id(photos[1])
    wait_idle(qtbot, window)
    panel = window.side_panel
    assert panel.critique_button.isEnabled()
    tokens: list[tuple[int, str, str]] = []
    window.jobs.critique_token.connect(lambda *args: tokens.append(args))
    with qtbot.waitSignal(window.jobs.critique_finished, timeout=20000):
        panel.critique_button.click()
    assert len(tokens) == 6 and tokens[0][0] == photos[1]
    wait_idle(qtbot, window)
    from artimuse_desktop.vocabulary import ATTRIBUTES

    qtbot.waitUntil(lambda: panel.attribute_rows[ATTRIBUTES[0]].critique.text() == "Warm light, calm mood.")
    assert panel.critique_button.text() == "Write critique"


def test_welcome_then_add_folder_indexes_in_the_background(
    qtbot: Any, window: Any, catalog: Catalog, tmp_path: Path
) -> None:
    pytest.importorskip("artimuse_desktop.library.indexer")
    assert window.stack.currentWidget() is window.welcome
    folder = tmp_path / "new photos"
    for i in range(5):
        write_jpeg(folder / f"img{i}.jpg", color=(40 * i, 100, 200 - 30 * i), size=(120, 80))
    (folder / "broken.jpg").write_bytes(b"not a jpeg at all")
    with qtbot.waitSignal(window.jobs.finished, timeout=60000) as finished:
        window.open_paths([str(folder / "img0.jpg")])  # `artimuse-desktop gui PATH` with a photo: its folder
    result = finished.args[0]
    assert result.job == "index" and not result.error, result.message
    wait_idle(qtbot, window)
    assert window.stack.currentWidget() is window.grid
    assert len(window.model.ids()) >= 5
    assert str(folder) in window.settings.library_folders
    assert window.collections.selected() == ("folder", str(folder))  # the opened folder is shown
    assert any(
        "broken.jpg" in subject or "broken.jpg" in reason for subject, reason in window.error_log.entries
    ) or any(r.status == "error" for r in (window.model.record_for_id(p) for p in window.model.ids()) if r)
