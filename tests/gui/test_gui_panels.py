"""The side panel shows the right assessment (absent as absent), thumbnails arrive off the GUI thread, and the
loupe and compare views zoom, pan and stay in sync."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.gui.panel_attributes import ABSENT
from artimuse_desktop.gui.thumbnail_loader import FULL
from artimuse_desktop.vocabulary import ATTRIBUTES
from tests.factory import add_assessment, set_score_model

from .conftest import wait_idle


def show(qtbot: Any, window: Any, photo_id: int) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    assert window.grid.select_id(photo_id)
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.side_panel.current_id() == photo_id)


def test_side_panel_shows_the_score_model_attributes_and_absent_as_absent(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    pid = photos[0]
    attributes = {
        ATTRIBUTES[0]: (71.5, "Strong leading lines."),
        ATTRIBUTES[2]: (None, "Sharp where it matters."),  # a critique without a score
        ATTRIBUTES[6]: (64.0, None),  # experimental
    }
    add_assessment(catalog, pid, "artimuse", 68.25, attributes=attributes, experimental={ATTRIBUTES[6]}, version="v2")
    set_score_model(catalog, "artimuse")
    show(qtbot, window, pid)
    panel = window.side_panel
    assert panel.title.text() == "alpha.jpg"
    assert panel.score.text() in ("68.2", "68.3")
    assert "artimuse" in panel.score_source.text() and "v2" in panel.score_source.text()
    rows = panel.attribute_rows
    assert rows[ATTRIBUTES[0]].value.text() == "71.5"
    assert rows[ATTRIBUTES[0]].critique.text() == "Strong leading lines."
    assert rows[ATTRIBUTES[1]].value.text() == ABSENT and rows[ATTRIBUTES[1]].bar.value is None
    assert rows[ATTRIBUTES[2]].value.text() == ABSENT and rows[ATTRIBUTES[2]].critique.text() == (
        "Sharp where it matters."
    )
    assert rows[ATTRIBUTES[0]].tag.isHidden()  # not experimental: no tag
    assert rows[ATTRIBUTES[6]].tag.isVisibleTo(panel) and rows[ATTRIBUTES[6]].tag.text() == "experimental"
    # the technical measures come with their notes, and the other model's score is listed
    assert not panel.no_measures.isVisibleTo(panel)
    assert "technical" in panel.others.text() and "55.0" in panel.others.text()
    assert "Pick" in panel.decisions.text() and "★★★☆☆" in panel.decisions.text()
    # Write critique: no ArtiMuse model here, so it is disabled and says why
    qtbot.waitUntil(lambda: window.critiques.backend_infos != [] or "ArtiMuse" in panel.critique_button.toolTip())
    assert not panel.critique_button.isEnabled()
    assert panel.critique_button.toolTip()


def test_unscored_photo_says_so(qtbot: Any, window: Any, catalog: Catalog, photos: list[int]) -> None:
    show(qtbot, window, photos[7])  # hotel: no technical score
    panel = window.side_panel
    assert panel.score.text() == ABSENT
    assert "not scored by technical" in panel.score_source.text()
    assert all(row.value.text() == ABSENT for row in panel.attribute_rows.values())


def test_thumbnails_load_in_the_background(qtbot: Any, window: Any, photos: list[int]) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    window.grid.viewport().repaint()  # painting asks for the visible thumbnails
    qtbot.waitUntil(lambda: all(window.model.pixmap(pid) is not None for pid in photos[:4]), timeout=10000)
    pixmap = window.model.pixmap(photos[0])
    assert pixmap is not None and max(pixmap.width(), pixmap.height()) >= 64
    window.grid.set_thumb_size(120)
    assert window.size_slider.value() == 120
    qtbot.keyClick(window.grid, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert window.grid.thumb_size == 140


def test_loupe_zoom_and_pan(qtbot: Any, window: Any, photos: list[int]) -> None:
    show(qtbot, window, photos[3])
    qtbot.keyClick(window.grid, Qt.Key.Key_E)
    loupe = window.loupe
    assert window.stack.currentWidget() is loupe
    qtbot.waitUntil(lambda: loupe.image.pixmap() is not None, timeout=10000)
    assert not loupe.image.is_zoomed()
    qtbot.keyClick(loupe.image, Qt.Key.Key_Z)
    assert loupe.image.is_zoomed()
    qtbot.waitUntil(lambda: window.images.pixmap(photos[3], FULL) is not None, timeout=10000)
    assert loupe.image.scale() == 1.0
    # the test photos are smaller than the view: at 100 % they stay centred; a big one pans
    loupe.image.set_pixmap(loupe.image.pixmap(), loupe.image.image_size() * 30)
    loupe.image.set_view(True, 0.5, 0.5)
    before = loupe.image.center()
    start = loupe.image.rect().center()
    qtbot.mousePress(loupe.image, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(loupe.image, start + QPoint(60, 40))
    qtbot.mouseRelease(loupe.image, Qt.MouseButton.LeftButton, pos=start + QPoint(60, 40))
    after = loupe.image.center()
    assert after.x() < before.x() and after.y() < before.y()  # dragging right shows what was on the left
    assert loupe.image.is_zoomed()  # a drag is not a click: zoom stays
    qtbot.keyClick(loupe.image, Qt.Key.Key_Space)
    assert window.stack.currentWidget() is window.grid


def test_compare_side_by_side_with_synchronised_zoom(qtbot: Any, window: Any, photos: list[int]) -> None:
    window.reload_view()
    wait_idle(qtbot, window)
    chosen = photos[:3]
    window.grid.select_ids(chosen, chosen[1])
    qtbot.keyClick(window.grid, Qt.Key.Key_C)
    compare = window.compare
    assert window.stack.currentWidget() is compare
    assert compare.photo_ids() == chosen and compare.active_id() == chosen[1]
    assert "Score 55.0" in compare.panes[0].details.text()
    qtbot.keyClick(compare, Qt.Key.Key_Z)
    assert all(pane.image.is_zoomed() for pane in compare.panes)
    first = compare.panes[0].image
    first.set_pixmap(first.pixmap(), first.image_size() * 30)
    for pane in compare.panes[1:]:
        pane.image.set_pixmap(pane.image.pixmap(), pane.image.image_size() * 30)
    first.set_view(True, 0.5, 0.5)
    first.toggle_zoom()
    first.toggle_zoom(first.rect().center() + QPoint(30, 20))
    centers = {(round(p.image.center().x(), 3), round(p.image.center().y(), 3)) for p in compare.panes}
    assert len(centers) == 1  # every pane shows the same spot
    # keys act on the active pane's photo
    qtbot.keyClick(compare, Qt.Key.Key_Right)
    assert compare.active_id() == chosen[2]
    qtbot.keyClick(compare, Qt.Key.Key_P)
    wait_idle(qtbot, window)  # decisions are written off the GUI thread
    record = window.model.record_for_id(chosen[2])
    assert record is not None and record.flag == 1
    assert "Pick" in compare.panes[2].details.text()


def test_a_smaller_cache_size_prunes_the_thumbnail_cache_at_once(qtbot: Any, window: Any, photos: list[int]) -> None:
    import contextlib
    import dataclasses

    from artimuse_desktop import paths

    qtbot.waitUntil(lambda: window.is_idle() and window.loader.idle(), timeout=10000)  # no thumbnail in flight
    filler = paths.thumbnails_dir() / "preview" / "zz"
    filler.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        (filler / f"{'ab' * 8}{i:02d}zz.jpg").write_bytes(b"\0" * 700_000)

    def cache_bytes() -> int:
        total = 0
        for path in paths.thumbnails_dir().rglob("*.jpg"):
            with contextlib.suppress(FileNotFoundError):  # the prune may delete it between listing and stat
                total += path.stat().st_size
        return total

    assert sum(f.stat().st_size for f in filler.glob("*.jpg")) > 2 * 1024 * 1024
    window.apply_settings(dataclasses.replace(window.settings, cache_size_mb=1))
    qtbot.waitUntil(lambda: cache_bytes() <= 1024 * 1024, timeout=10000)
