"""Render the README screenshots of the export dialog and the grid's right-click menu, without a display.

    python docs/render_export_screenshots.py [--out docs] [--theme dark]

The same generated sample library and offscreen main window as ``render_screenshots.py`` (whose ``save`` keeps
each PNG small). The dialog is grabbed on its own; the menu, a separate top-level window, is painted onto a
grab of the window where it opened, and the picture is cropped around it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

SIZE = (1440, 900)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--theme", default="dark", choices=("dark", "light"))
    parser.add_argument("--photos", type=int, default=40)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from render_screenshots import save, wait

    with tempfile.TemporaryDirectory(prefix="artimuse-shots-") as tmp:
        os.environ["ARTIMUSE_HOME"] = str(Path(tmp) / "home")
        os.environ["HOME"] = tmp
        from artimuse_desktop.catalog.db import open_catalog
        from tests.demo_library import generate_library

        catalog = open_catalog(Path(tmp) / "catalog.sqlite")
        ids = generate_library(catalog, Path(tmp) / "Pictures", args.photos, size=(900, 600), grain=0.6)

        from PySide6.QtCore import QPoint, QRect
        from PySide6.QtGui import QPainter

        from artimuse_desktop.gui.app import create_application
        from artimuse_desktop.gui.main_window import MainWindow
        from artimuse_desktop.gui.theme import apply_theme
        from artimuse_desktop.settings import Settings

        app = create_application()
        apply_theme(app, args.theme)
        window = MainWindow(
            catalog, Settings(theme=args.theme, thumbnail_size=170), settings_path=Path(tmp) / "settings.json"
        )
        window.resize(*SIZE)
        window.show()
        wait(app, window.is_idle)
        window.splitter.setSizes([220, SIZE[0] - 220 - 360, 360])
        wait(app, window.is_idle)

        # the export dialog: the top 20 by score into ~/Pictures/ArtiMuse export, ranked names
        window.grid.select_ids(ids[3:9], ids[3])
        dialog = window.file_actions.open_export("top")
        dialog.form.dest.setText("/home/you/Pictures/ArtiMuse export")  # shown only; nothing is written
        dialog.form.set_template("{rank}_{date:%Y%m%d}_{original}")
        wait(app, lambda: not dialog.busy())
        dialog.adjustSize()
        wait(app, lambda: False, timeout=0.2)
        print("export dialog:", save(dialog.grab(), args.out / "screenshot-export.png"), "bytes")
        dialog.reject()

        # the right-click menu over the grid, its rating sub-menu open
        visible = window.model.ids()[:12]
        wait(app, lambda: all(window.model.pixmap(pid) is not None for pid in visible))
        target = visible[1]
        window.grid.select_id(target)
        rect = window.grid.visualRect(window.model.index_of(target))
        menu = window.context_menu.popup(rect.center())
        wait(app, lambda: menu.isVisible())
        rating = next(a for a in menu.actions() if a.menu() is not None)
        menu.setActiveAction(rating)
        sub = rating.menu()
        sub.popup(menu.mapToGlobal(menu.actionGeometry(rating).topRight()))
        wait(app, lambda: sub.isVisible())
        wait(app, lambda: False, timeout=0.2)
        shot = window.grab()
        painter = QPainter(shot)
        # where a desktop puts them: the menu at the click, the sub-menu beside its row (the offscreen screen is
        # smaller than the window, so Qt's own positions would be squeezed onto it)
        menu_at = window.grid.viewport().mapTo(window, rect.center())
        sub_at = menu_at + QPoint(menu.width() - 2, menu.actionGeometry(rating).top() - 4)
        painter.drawPixmap(menu_at, menu.grab())
        painter.drawPixmap(sub_at, sub.grab())
        painter.end()
        area = QRect(menu_at - QPoint(260, 120), sub_at + QPoint(sub.width() + 60, sub.height() + 200))
        crop = shot.copy(area.intersected(shot.rect()))
        print("context menu:", save(crop, args.out / "screenshot-context-menu.png"), "bytes")
        sub.close()
        menu.close()
        window.close()
        catalog.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
