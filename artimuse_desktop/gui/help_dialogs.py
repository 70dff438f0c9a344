"""Help ▸ Keyboard shortcuts (made from the command table), Open log folder, About."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget


def show_keys(parent: QWidget, help_rows: list[Any]) -> None:
    """The rows come from the command table (``commands.help_rows``)."""
    rows = "".join(f"<tr><td><b>{r.keys}</b>&nbsp;&nbsp;</td><td>{r.action}</td></tr>" for r in help_rows)
    QMessageBox.information(parent, "Keyboard shortcuts", f"<table>{rows}</table>")


def open_log_folder() -> None:
    from artimuse_desktop import paths

    QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.log_dir())))


def show_about(parent: QWidget, catalog_path: Path | str) -> None:
    from artimuse_desktop import __version__

    QMessageBox.about(
        parent,
        "About ArtiMuse Desktop",
        f"ArtiMuse Desktop {__version__}\nOffline photo culling with aesthetic scores.\nCatalog: {catalog_path}",
    )
