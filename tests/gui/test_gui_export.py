"""Export from the window, end to end on real files: the dialog (what, how, names, reports, progress, cancel,
"show in file manager"), the grid's right-click menu, XMP write/read and moving rejects to a real trash."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QContextMenuEvent, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu, QPushButton

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.queries import get_photo
from artimuse_desktop.gui.dialogs.export_dialog import EXPORTS, ExportDialog
from artimuse_desktop.gui.tasks import IN_ORDER
from tests.export.test_export_trash import trash_dir  # noqa: F401  (the isolated real trash)
from tests.waiting import blocked_in

from .conftest import reload, wait_idle


class OpenedUrls(QObject):
    """Where QDesktopServices sends file:// URLs during a test (Qt's own hook; nothing is launched)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open_url(self, url: QUrl) -> None:
        self.urls.append(url.toLocalFile())


@pytest.fixture
def opened_urls(qapp: Any) -> Iterator[OpenedUrls]:
    handler = OpenedUrls()
    QDesktopServices.setUrlHandler("file", handler, "open_url")
    try:
        yield handler
    finally:
        QDesktopServices.unsetUrlHandler("file")


def photo_state(catalog: Catalog, photo_id: int) -> tuple[int, int, str | None, str]:
    with catalog.read() as session:
        record = get_photo(session, photo_id)
    assert record is not None
    return record.flag, record.rating, record.color_label, record.status


def open_export(qtbot: Any, window: Any, command: str = "file.export") -> ExportDialog:
    window.commands.actions[command].trigger()
    dialog = window.file_actions.export_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.busy())
    return dialog


def set_choices(qtbot: Any, dialog: ExportDialog, dest: Path, template: str) -> None:
    dialog.form.dest.setText(str(dest))
    dialog.form.set_template(template)
    qtbot.waitUntil(lambda: not dialog.busy())


def run(qtbot: Any, dialog: ExportDialog) -> Any:
    with qtbot.waitSignal(dialog.finished_export, timeout=20000) as blocker:
        qtbot.mouseClick(dialog.export_button, _LEFT)
    return blocker.args[0]


_LEFT = Qt.MouseButton.LeftButton


def test_export_picks_with_a_template_writes_files_and_reports(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int], tmp_path: Path, opened_urls: OpenedUrls
) -> None:
    assert window.commands.actions["file.export"].shortcut() == QKeySequence("Ctrl+Shift+E")
    dialog = open_export(qtbot, window)
    assert dialog.form.what() == "picks"
    out = tmp_path / "out"
    set_choices(qtbot, dialog, out, "{rank}_{original}")
    shown = dialog.last_preview
    assert shown is not None and shown.error is None
    # alpha (55) and foxtrot (47) are the picks, ranked by score
    assert shown.names == ("001_alpha.jpg", "002_foxtrot.jpg") and shown.count == 2
    assert "001_alpha.jpg" in dialog.form.preview.text()

    outcome = run(qtbot, dialog)
    assert outcome.exported == 2 and outcome.failed == 0 and not outcome.cancelled
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "001_alpha.jpg",
        "002_foxtrot.jpg",
        "artimuse-export.csv",
        "artimuse-export.json",
        "contact-sheet.html",
    ]
    source = tmp_path / "photos" / "trip" / "day1" / "alpha.jpg"
    copy = (out / "001_alpha.jpg").read_bytes()
    original = source.read_bytes()
    assert copy.endswith(original[original.find(b"\xff\xda") :])  # the image data, byte for byte
    assert b"http://ns.adobe.com/xap/1.0/" in copy  # the decisions travel inside the copy (XMP)
    assert "001_alpha.jpg" in (out / "artimuse-export.csv").read_text(encoding="utf-8")
    assert dialog.status.text().startswith("Export done: 2 photos")
    assert not dialog.problems.isVisible()

    assert dialog.show_button.isVisible()
    qtbot.mouseClick(dialog.show_button, _LEFT)
    assert opened_urls.urls == [str(out)]
    # the photos are there now: the live preview says a second export would copy nothing again
    qtbot.waitUntil(lambda: not dialog.busy())
    assert dialog.last_preview is not None and dialog.last_preview.names[0] == "001_alpha.jpg"
    assert dialog.last_preview.already_there == 2 and "already there" in dialog.form.preview.text()
    dialog.reject()


def test_preview_follows_what_how_and_the_template(qtbot: Any, window: Any, photos: list[int], tmp_path: Path) -> None:
    window.refresh_stats()  # the sort menu learns the catalog's measures
    reload(qtbot, window)
    window.grid.select_ids([photos[1], photos[3], photos[9]], photos[1])
    dialog = open_export(qtbot, window, "photo.export_selection")
    assert dialog.form.what() == "selection"
    set_choices(qtbot, dialog, tmp_path / "sel", "{original}_{rating}")
    assert dialog.last_preview is not None
    assert dialog.last_preview.names == ("bravo_1.jpg", "delta_5.jpg", "juliet_0.jpg")  # grid order

    dialog.form.choose("top")
    dialog.form.top.setValue(3)
    dialog.form.by.setCurrentIndex(dialog.form.by.findData("score"))
    dialog.form.set_template("{rank}-{score}-{original}")
    qtbot.waitUntil(lambda: not dialog.busy())
    assert dialog.last_preview.names == ("001-91-golf.jpg", "002-88-delta.jpg", "003-72-bravo.jpg")
    measure = dialog.form.by.findData("measure:sharpness")
    assert measure >= 0, "the measures the catalog has are offered"
    dialog.form.by.setCurrentIndex(measure)
    dialog.form.top.setValue(2)
    qtbot.waitUntil(lambda: not dialog.busy())
    assert dialog.last_preview.names == ("001-91-golf.jpg", "002-88-delta.jpg")

    dialog.form.choose("shown")
    qtbot.waitUntil(lambda: not dialog.busy())
    assert dialog.last_preview.count == len(window.model.ids()) == 10

    dialog.form.set_template("{nope}")
    qtbot.waitUntil(lambda: not dialog.busy())
    assert dialog.last_preview.error and "nope" in dialog.last_preview.error
    assert not dialog.export_button.isEnabled()
    assert "nope" in dialog.form.preview.text()
    dialog.reject()


def test_cancel_stops_the_export_and_leaves_nothing_half_written(
    qtbot: Any, window: Any, photos: list[int], tmp_path: Path
) -> None:
    dialog = open_export(qtbot, window)
    out = tmp_path / "cancelled"
    set_choices(qtbot, dialog, out, "{original}")
    gate = threading.Event()
    window.tasks.submit(EXPORTS, gate.wait, lambda _result: None, policy=IN_ORDER)  # the channel is busy
    dialog.start()
    assert dialog.running() and not dialog.form.isEnabled()
    token = dialog.token
    assert token is not None
    token.pause()  # the copier will park at its first file
    gate.set()
    qtbot.waitUntil(lambda: blocked_in(token.wait_if_paused))
    with qtbot.waitSignal(dialog.finished_export, timeout=20000) as blocker:
        qtbot.mouseClick(dialog.cancel_button, _LEFT)
    outcome = blocker.args[0]
    assert outcome.cancelled and outcome.exported == 0
    assert [p for p in out.rglob("*") if p.is_file()] == []  # no photo, no partial file, no report
    assert dialog.status.text() == "Export cancelled: nothing was exported."
    assert dialog.cancel_button.text() == "Close" and dialog.form.isEnabled()
    dialog.reject()


def test_closing_the_window_stops_a_running_export(qtbot: Any, window: Any, photos: list[int], tmp_path: Path) -> None:
    dialog = open_export(qtbot, window)
    out = tmp_path / "closed"
    set_choices(qtbot, dialog, out, "{original}")
    gate = threading.Event()
    window.tasks.submit(EXPORTS, gate.wait, lambda _result: None, policy=IN_ORDER)
    dialog.start()
    token = dialog.token
    assert token is not None
    token.pause()
    gate.set()
    qtbot.waitUntil(lambda: blocked_in(token.wait_if_paused))
    window.close()  # returns once the export has stopped (the fixture checks that no thread is left)
    assert token.cancelled
    assert [p for p in out.rglob("*") if p.is_file()] == []


def test_an_export_into_the_indexed_library_needs_the_anyway_box(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int], tmp_path: Path
) -> None:
    from artimuse_desktop.library.index_rows import ensure_roots

    library = tmp_path / "photos"
    ensure_roots(catalog, [str(library)])
    dialog = open_export(qtbot, window)
    set_choices(qtbot, dialog, library / "best", "{original}")
    assert dialog.last_preview is not None and dialog.last_preview.library_root == str(library)
    assert "duplicates" in dialog.form.preview.text()
    assert not dialog.form.force.isHidden() and not dialog.export_button.isEnabled()
    dialog.start()  # even when started anyway, the job refuses without the box ticked
    qtbot.waitUntil(lambda: not dialog.running())
    assert "not exporting" in dialog.problems.item(0).text() and not (library / "best").exists()
    dialog.form.force.setChecked(True)
    qtbot.waitUntil(lambda: not dialog.busy())
    assert dialog.export_button.isEnabled()
    outcome = run(qtbot, dialog)
    assert outcome.exported == 2 and (library / "best" / "alpha.jpg").exists()
    dialog.reject()


def test_an_export_that_cannot_run_lists_the_reason(qtbot: Any, window: Any, photos: list[int], tmp_path: Path) -> None:
    blocker_file = tmp_path / "a-file"
    blocker_file.write_text("not a folder", encoding="utf-8")
    dialog = open_export(qtbot, window)
    set_choices(qtbot, dialog, blocker_file / "out", "{original}")
    with qtbot.waitSignal(dialog.failed_export, timeout=20000) as failed:
        qtbot.mouseClick(dialog.export_button, _LEFT)
    assert "cannot create the export folder" in failed.args[0]
    assert "Traceback" not in failed.args[0]
    assert dialog.problems.isVisible() and dialog.problems.count() >= 1
    assert dialog.status.text() == "The export did not run."
    dialog.reject()


def context_menu_on(qtbot: Any, window: Any, photo_id: int) -> QMenu:
    grid = window.grid
    index = window.model.index_of(photo_id)
    grid.scrollTo(index)
    point = grid.visualRect(index).center()
    viewport = grid.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.RightButton, pos=point)
    # QTest sends the mouse buttons only; the window system's context-menu event follows them, as on a desktop
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, viewport.mapToGlobal(point))
    QApplication.sendEvent(viewport, event)
    menu = window.context_menu.menu
    assert menu is not None and menu.isVisible()
    return menu


def menu_action(menu: QMenu, command_id: str) -> Any:
    for action in menu.actions():
        if action.objectName() == command_id:
            return action
        if action.menu() is not None:
            for inner in action.menu().actions():
                if inner.objectName() == command_id:
                    return inner
    raise AssertionError(f"{command_id} is not in the menu")


def test_the_grid_context_menu_runs_the_table_commands(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int], opened_urls: OpenedUrls
) -> None:
    reload(qtbot, window)
    echo, hotel = photos[4], photos[7]
    window.grid.select_id(echo)
    menu = context_menu_on(qtbot, window, hotel)
    assert window.grid.selected_ids() == [hotel]  # a right-click outside the selection selects what was clicked
    titles = [a.text().split("\t")[0] for a in menu.actions() if not a.isSeparator()]
    assert titles[:5] == ["Pick", "Reject", "Unflag", "Rating", "Colour label"]
    assert {"Export selection…", "Reveal in file manager", "Copy path"} <= set(titles)
    menu_action(menu, "photo.pick").trigger()
    menu_action(menu, "photo.rating.4").trigger()
    menu_action(menu, "photo.label.green").trigger()
    wait_idle(qtbot, window)
    assert photo_state(catalog, hotel)[:3] == (1, 4, "green")
    assert window.model.record_for_id(hotel).rating == 4

    menu_action(menu, "photo.copy_path").trigger()
    path = window.model.record_for_id(hotel).path
    assert QGuiApplication.clipboard().text() == path
    menu_action(menu, "photo.reveal").trigger()
    assert opened_urls.urls == [str(Path(path).parent)]
    menu.close()

    window.grid.select_ids([echo, hotel], hotel)
    menu = context_menu_on(qtbot, window, hotel)
    assert window.grid.selected_ids() == [echo, hotel]  # a right-click inside the selection keeps it
    menu_action(menu, "photo.export_selection").trigger()
    dialog = window.file_actions.export_dialog
    assert dialog is not None and dialog.form.what() == "selection"
    assert dialog.request().ids == (echo, hotel)
    qtbot.waitUntil(lambda: not dialog.busy())
    dialog.reject()
    menu.close()


def test_move_rejects_to_trash_asks_with_the_count_then_moves_them(
    qtbot: Any,
    window: Any,
    catalog: Catalog,
    photos: list[int],
    trash_dir: Path,  # noqa: F811
) -> None:
    charlie = photos[2]  # the fixture's one reject
    charlie_file = Path(window.model.record_for_id(charlie).path)
    (charlie_file.parent / "charlie.jpg.xmp").write_text("<x/>", encoding="utf-8")

    window.commands.actions["file.trash_rejects"].trigger()
    qtbot.waitUntil(lambda: window.file_actions.confirm is not None)
    box = window.file_actions.confirm
    assert box.text() == "Move 1 rejected photo and 1 sidecar to the trash?"
    box.reject()  # Cancel: nothing moves
    wait_idle(qtbot, window)
    assert charlie_file.exists() and photo_state(catalog, charlie)[3] == "ok"

    window.commands.actions["file.trash_rejects"].trigger()
    qtbot.waitUntil(lambda: window.file_actions.confirm is not None)
    box = window.file_actions.confirm
    yes = box.findChild(QPushButton, "trashYes")
    assert yes is not None and yes.text() == "Move 1 to trash"
    yes.click()
    qtbot.waitUntil(lambda: photo_state(catalog, charlie)[3] == "trashed")
    wait_idle(qtbot, window)
    assert not charlie_file.exists()
    assert sorted(p.name for p in (trash_dir / "files").iterdir()) == ["charlie.jpg", "charlie.jpg.xmp"]
    assert charlie not in window.model.ids()  # the grid followed the change
    assert "Moved 1 photo (2 files) to the trash" in window.statusBar().currentMessage()


def test_write_then_read_metadata_round_trips_through_sidecars(
    qtbot: Any, window: Any, catalog: Catalog, photos: list[int]
) -> None:
    from artimuse_desktop.library.sidecars import read_sidecar

    alpha, delta = photos[0], photos[3]  # pick ★★★ / ★★★★★ red
    reload(qtbot, window)
    window.grid.select_ids([alpha, delta], alpha)
    window.commands.actions["photo.write_xmp"].trigger()
    wait_idle(qtbot, window)
    alpha_xmp = Path(window.model.record_for_id(alpha).path).with_suffix(".xmp")
    delta_xmp = Path(window.model.record_for_id(delta).path).with_suffix(".xmp")
    assert alpha_xmp.exists() and delta_xmp.exists()
    assert read_sidecar(alpha_xmp).rating == 3 and read_sidecar(delta_xmp).label == "red"
    assert window.statusBar().currentMessage().startswith("XMP: wrote 2 sidecars")

    # the decisions are lost in the catalog (another machine, a fresh catalog): reading brings them back
    # (a fresh catalog holds no decision made here: clear the rows the way a new index would leave them)
    from sqlalchemy import update

    from artimuse_desktop.catalog.models import Photo

    with catalog.write() as session:
        session.execute(
            update(Photo)
            .where(Photo.id.in_([alpha, delta]))
            .values(flag=0, rating=0, color_label=None, flag_source=None, rating_source=None, label_source=None)
        )
    window.apply_changes(window_changes(alpha, delta))
    wait_idle(qtbot, window)
    assert window.model.record_for_id(alpha).rating == 0
    window.grid.select_ids([alpha, delta], alpha)
    window.commands.actions["photo.read_xmp"].trigger()
    wait_idle(qtbot, window)
    assert photo_state(catalog, alpha)[:3] == (1, 3, None)
    assert photo_state(catalog, delta)[:3] == (0, 5, "red")
    assert window.model.record_for_id(delta).rating == 5  # the grid shows what was read
    assert "2 photos" in window.statusBar().currentMessage()


def window_changes(*ids: int) -> Any:
    from artimuse_desktop.gui.changes import Changes

    return Changes(photo_ids=frozenset(ids), decisions=True)
