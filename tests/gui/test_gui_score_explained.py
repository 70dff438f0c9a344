"""The score explains itself: the badge, the panel's score, the "Score shown" combo and Help ▸ What the score
means say which model and version gave a score, its scale, and that absent means not scored; each attribute
number names its model; the sort menu offers only what this catalog has, in words; a failed file says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent, QTextDocument
from PySide6.QtWidgets import QApplication, QMessageBox, QToolTip

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.library.indexer import index_roots
from artimuse_desktop.scoring.types import Measure
from artimuse_desktop.vocabulary import ATTRIBUTES
from tests.factory import add_assessment, set_score_model, write_jpeg

from .conftest import wait_idle

TECHNICAL_EXECUTION = "Technical Execution"


def plain(html: str) -> str:
    """What a rich-text tooltip reads as."""
    document = QTextDocument()
    document.setHtml(html)
    return " ".join(document.toPlainText().split())


def show(qtbot: Any, window: Any, photo_id: int) -> None:
    window.refresh_stats()
    window.reload_view()
    wait_idle(qtbot, window)
    assert window.grid.select_id(photo_id)
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: window.side_panel.current_id() == photo_id)


def test_grid_score_badge_tooltip_names_model_version_and_scale(qtbot: Any, window: Any, photos: list[int]) -> None:
    window.refresh_stats()
    window.reload_view()
    wait_idle(qtbot, window)
    grid, model = window.grid, window.model
    grid.viewport().repaint()  # painting asks for the visible thumbnails
    qtbot.waitUntil(lambda: model.pixmap(photos[0]) is not None, timeout=10000)
    grid.viewport().repaint()
    index = model.index_of(photos[0])  # alpha: 55 by technical 1.0
    record = model.record_for_id(photos[0])
    badge = grid.itemDelegate().score_badge_rect(grid.visualRect(index), grid.font(), record, model)
    assert badge is not None
    # the badge really is painted there: a dark pill over the red photo
    shot = grid.viewport().grab().toImage()
    pixel = shot.pixelColor(int(badge.left()) + 3, int(badge.center().y()))
    assert pixel.red() < 110 and pixel.green() < 110, pixel.name()

    def tooltip_at(point: QPoint) -> str:
        QToolTip.hideText()
        event = QHelpEvent(QEvent.Type.ToolTip, point, grid.viewport().mapToGlobal(point))
        QApplication.sendEvent(grid.viewport(), event)
        return plain(QToolTip.text())

    text = tooltip_at(badge.center().toPoint())
    assert "Score 55.0 by technical 1.0" in text
    assert "0–100" in text and "docs/technical-analyzer.md" in text
    assert "technical judgement, not an aesthetic one" in text
    assert "never a 0" in text  # absent means not scored
    # elsewhere in the cell: the cell's own tooltip (path, camera, score and its model)
    cell = grid.visualRect(index)
    elsewhere = tooltip_at(QPoint(cell.right() - 20, cell.bottom() - 40))
    assert "alpha.jpg" in elsewhere and "Score 55.0 by technical 1.0" in elsewhere
    assert "Fujifilm X-T5" in elsewhere
    QToolTip.hideText()


def test_side_panel_score_and_attribute_numbers_name_their_model(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    pid = photos[1]  # bravo: technical 72.5
    add_assessment(
        catalog,
        pid,
        "technical",
        71.0,
        attributes={TECHNICAL_EXECUTION: (71.0, None), "Composition & Design": (60.0, None)},
        experimental={"Composition & Design"},
        version="1.2",
    )
    add_assessment(
        catalog,
        pid,
        "artimuse:tiny",
        64.0,
        attributes={TECHNICAL_EXECUTION: (None, "Crisp where it matters."), "Overall Gestalt": (58.0, "Calm.")},
        version="w0123abcd.c3.p9",
    )
    show(qtbot, window, pid)
    panel = window.side_panel
    # the score: which model and version, its scale, what absent means
    assert panel.score.text() == "71.0"
    assert "by technical 1.2" in panel.score_source.text()
    tip = plain(panel.score.toolTip())
    assert "Score 71.0 by technical 1.2" in tip and "not an aesthetic one" in tip and "never a 0" in tip
    # the built-in analyzer's 71 beside an ArtiMuse critique: the number says technical, the critique ArtiMuse
    row = panel.attribute_rows[TECHNICAL_EXECUTION]
    assert row.value.text() == "71.0"
    assert row.source.isVisibleTo(panel) and row.source.text() == "technical"
    assert "by technical 1.2" in plain(row.value.toolTip())
    assert "critique under it is by artimuse:tiny" in plain(row.value.toolTip())
    assert row.critique.text() == "Crisp where it matters."
    assert row.critique_by.isVisibleTo(panel) and row.critique_by.text() == "critique by artimuse:tiny"
    gestalt = panel.attribute_rows["Overall Gestalt"]
    assert gestalt.source.text() == "artimuse" and "by artimuse:tiny w0123abcd.c3.p9" in plain(gestalt.value.toolTip())
    assert not gestalt.critique_by.isVisibleTo(panel)  # its own model's critique: nothing to say
    absent = panel.attribute_rows["Originality & Creativity"]
    assert not absent.source.isVisibleTo(panel) and "not assessed" in plain(absent.value.toolTip())
    # switching the score shown to ArtiMuse: its score, its scale; the attribute still says where it came from
    set_score_model(catalog, "artimuse:tiny")
    show(qtbot, window, pid)
    assert panel.score.text() == "64.0" and "artimuse:tiny w0123abcd.c3.p9" in panel.score_source.text()
    tip = plain(panel.score.toolTip())
    assert "expected value" in tip and "101 score tokens" in tip and "aesthetic judgement" in tip
    assert row.source.text() == "technical"  # ArtiMuse gave no number here: the 71 is still the analyzer's


def test_score_shown_combo_and_help_entry_explain_the_score(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    add_assessment(catalog, photos[0], "artimuse:tiny", 80.0, version="w0123abcd.c3.p9")
    window.refresh_stats()
    wait_idle(qtbot, window)
    combo = window.score_model_combo
    tip = plain(combo.toolTip())
    assert "Which model's score" in tip and "technical 1.0" in tip and "not an aesthetic one" in tip
    index = combo.findText("artimuse:tiny")
    assert index >= 0
    item_tip = plain(str(combo.itemData(index, 3)))  # ToolTipRole
    assert "artimuse:tiny w0123abcd.c3.p9" in item_tip and "101 score tokens" in item_tip
    # Help ▸ What the score means: a row of the one command table, in the Help menu
    action = window.commands["help.score"]
    assert action.text() == "What the score means"
    assert action in window.commands.menus["Help"].actions()
    action.trigger()
    box = window.findChild(QMessageBox, "scoreHelp")
    assert box is not None and box.isVisible()
    text = plain(box.text())
    assert "use the score of technical (the built-in technical analyzer), version 1.0" in text
    assert "artimuse:tiny w0123abcd.c3.p9" in text and "101 score tokens" in text
    assert "never a 0" in text
    box.close()


def test_sort_menu_lists_what_the_catalog_has_in_words(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    def items() -> list[str]:
        combo = window.filter_bar.sort.combo
        return [combo.itemText(i) for i in range(combo.count()) if combo.itemText(i)]

    window.refresh_stats()
    wait_idle(qtbot, window)
    # only the technical "sharpness" measure so far, and no attribute scores
    assert items() == ["Capture time", "Score", "File name", "Rating", "Sharpness (whole frame)"]
    measures = [
        Measure("noise", 2.0, "σ", False),
        Measure("colour_cast", 3.0, "ΔE", None),
        Measure("sharpness_region", 120.0, "LoG variance", True),
    ]
    add_assessment(catalog, photos[0], "technical", 60.0, measures=measures, version="1.1")
    add_assessment(catalog, photos[1], "artimuse", 70.0, attributes={"Overall Gestalt": (66.0, None)})
    window.refresh_stats()
    wait_idle(qtbot, window)
    shown = items()
    assert "Overall Gestalt" in shown and "Composition & Design" not in shown  # no photo has that score
    assert {"Noise", "Colour cast", "Sharpness (best region)"} <= set(shown)
    assert not any("(measure)" in text or "_" in text for text in shown)
    # a human name sorts by the measure it names
    combo = window.filter_bar.sort.combo
    combo.setCurrentIndex(combo.findText("Colour cast"))
    assert window.filter_bar.sort_spec().key == "measure:colour_cast"
    window.filter_bar.set_sort("attr:Theme & Communication", True)  # a saved sort the catalog lacks: kept
    assert window.filter_bar.sort.combo.currentText() == "Theme & Communication"
    # and the "More filters" popup names measures the same way
    labels = {label.text() for label in window.filter_bar.more.findChildren(type(window.side_panel.score))}
    assert "Colour cast" in labels and "colour cast" not in labels


def test_a_failed_file_says_why(qtbot: Any, window: Any, catalog: Catalog, tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    (library / "notes.jpg").write_text("not a photo, only a name\n")
    write_jpeg(library / "good.jpg")
    summary = index_roots(catalog, [library], workers=1)
    assert summary.failed == 1
    from artimuse_desktop.catalog.queries import photo_ids, records_by_ids

    with catalog.read() as session:
        records = {r.filename: r for r in records_by_ids(session, photo_ids(session))}
    bad, good = records["notes.jpg"], records["good.jpg"]
    assert bad.error
    # an assessment that failed says why too
    from artimuse_desktop.scoring.types import ScoreResult
    from tests.factory import save_scores

    save_scores(catalog, "technical", {good.id: ScoreResult(score=None, error="cannot decode: truncated")})
    assert window.collections.select("errors")
    show(qtbot, window, bad.id)
    panel = window.side_panel
    assert "not scored by" not in panel.score_source.text()
    assert panel.score_source.text() == "not scored: the file could not be read"
    assert panel.score_error.isVisibleTo(panel) and bad.error in panel.score_error.text()
    assert bad.error in plain(panel.score.toolTip())
    # the grid's "!" badge and the cell say it too
    shown = window.model.record_for_id(bad.id)
    assert f"No score from technical 1.0: {bad.error}" in plain(window.model.score_tooltip(shown))
    cell = window.model.data(window.model.index_of(bad.id), Qt.ItemDataRole.ToolTipRole)
    assert f"Error: {bad.error}" in plain(cell)
    show(qtbot, window, good.id)
    assert panel.score_source.text() == "technical could not score it"
    assert "cannot decode: truncated" in panel.score_error.text()


def test_absent_attributes_stay_absent_with_a_model_tag_only_on_numbers(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    show(qtbot, window, photos[7])  # hotel: not scored at all
    panel = window.side_panel
    assert panel.score_source.text() == "not scored by technical yet"
    assert "No score" in plain(panel.score.toolTip()) and "never a 0" in plain(panel.score.toolTip())
    assert all(not row.source.isVisibleTo(panel) for row in panel.attribute_rows.values())
    assert [row.attribute for row in panel.attribute_rows.values()] == list(ATTRIBUTES)
