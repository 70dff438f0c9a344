"""The GUI with a real (tiny) ArtiMuse checkpoint: scoring through the worker and a critique streaming into
the side panel, through the real transformers code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from artimuse_desktop.catalog import Catalog, queries
from tests.gui.conftest import wait_idle

FIXTURE = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "artimuse-tiny"

pytestmark = pytest.mark.model


@pytest.fixture
def tiny_installed() -> Iterator[None]:
    if not (FIXTURE / "config.json").is_file():
        pytest.skip(f"the artimuse-tiny fixture is not at {FIXTURE}")
    from artimuse_desktop.cli import main

    assert main(["models", "add", str(FIXTURE), "--name", "tiny"]) == 0
    yield


def test_score_and_write_a_critique_with_artimuse(
    tiny_installed: None, qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    with qtbot.waitSignal(window.jobs.finished, timeout=120000) as finished:
        assert window.start_scoring(model="artimuse")
    result = finished.args[0]
    assert result.job == "score" and not result.error and not result.cancelled, result.message
    with catalog.read() as session:
        (assessment,) = [a for a in queries.assessments_for(session, photos[0]) if a.model == "artimuse:tiny"]
    assert assessment.score is not None and 0 <= assessment.score <= 100

    wait_idle(qtbot, window)
    window.grid.select_id(photos[0])
    wait_idle(qtbot, window)
    panel = window.side_panel
    qtbot.waitUntil(lambda: panel.critique_button.isEnabled(), timeout=30000)
    window.settings.critique_max_new_tokens = 24  # the window's setting reaches the model (1024 takes minutes)
    tokens: list[tuple[int, str, str]] = []
    window.jobs.critique_token.connect(lambda *args: tokens.append(args))
    with qtbot.waitSignal(window.jobs.critique_finished, timeout=180000) as done:
        panel.critique_button.click()
    photo_id, texts, error = done.args
    assert photo_id == photos[0] and error is None and isinstance(texts, dict) and len(texts) == 8
    assert len(tokens) > 8 and {t[1] for t in tokens} <= set(texts)  # streamed, per attribute
    assert max(Counter(t[1] for t in tokens).values()) <= 24  # at most the setting's tokens each
    with catalog.read() as session:
        (stored,) = [a for a in queries.assessments_for(session, photos[0]) if a.model == "artimuse:tiny"]
    critiques = {a.attribute: a.critique for a in stored.attributes}
    assert critiques == texts
    wait_idle(qtbot, window)
    first = next(iter(texts))
    qtbot.waitUntil(lambda: panel.attribute_rows[first].critique.text() == texts[first], timeout=10000)
