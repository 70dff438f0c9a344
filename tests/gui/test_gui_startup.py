"""Start-up: ``artimuse-desktop`` alone opens the GUI, quickly and without importing a model; settings persist."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from artimuse_desktop import settings as settings_module
from artimuse_desktop.settings import Settings


def test_no_arguments_runs_the_gui_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from artimuse_desktop import cli
    from artimuse_desktop.gui import app

    calls: list[tuple[Path, list[str]]] = []
    monkeypatch.setattr(app, "run", lambda catalog, paths=(): calls.append((catalog, list(paths))) or 0)
    assert cli.main(["--catalog", str(tmp_path / "c.sqlite")]) == 0
    assert cli.main(["--catalog", str(tmp_path / "c.sqlite"), "gui", str(tmp_path)]) == 0
    # a file manager's "Open with" passes every selected file (the .desktop entry's %F)
    assert cli.main(["--catalog", str(tmp_path / "c.sqlite"), "gui", "a.jpg", "b.jpg"]) == 0
    catalog = tmp_path / "c.sqlite"
    assert calls == [(catalog, []), (catalog, [str(tmp_path)]), (catalog, ["a.jpg", "b.jpg"])]


def test_window_opens_fast_without_importing_a_model(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from artimuse_desktop.cli import main\n"
        f"rc = main(['--catalog', {str(tmp_path / 'c.sqlite')!r}])\n"
        "heavy = [m for m in ('torch', 'transformers', 'safetensors') if m in sys.modules]\n"
        "print('heavy modules:', heavy)\n"
        "sys.exit(rc)\n"
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "ARTIMUSE_GUI_EXIT_AFTER_SHOW": "1",
        "ARTIMUSE_HOME": str(tmp_path / "home"),
    }
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "window shown after" in done.stdout
    assert "heavy modules: []" in done.stdout
    seconds = float(done.stdout.split("window shown after ")[1].split()[0])
    assert seconds < 5.0  # the bench measures the real figure; this only catches a regression by far


def test_gui_command_module_imports_no_qt() -> None:
    code = "import sys, artimuse_desktop.cli as c; c.build_parser(); print([m for m in sys.modules if 'PySide6' in m])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_settings_round_trip_and_tolerate_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    assert settings_module.load(path) == Settings()  # missing: defaults
    wanted = Settings(
        library_folders=["/photos"],
        default_model="artimuse",
        device="cpu",
        batch_size=4,
        cache_size_mb=512,
        theme="light",
        auto_advance=True,
    )
    settings_module.save(wanted, path)
    assert settings_module.load(path) == wanted
    raw = json.loads(path.read_text())
    raw.update({"theme": "purple", "batch_size": -3, "unknown_key": 1, "auto_advance": "yes"})
    path.write_text(json.dumps(raw))
    loaded = settings_module.load(path)
    assert loaded.theme == "dark" and loaded.batch_size == 8 and loaded.auto_advance is False
    assert loaded.library_folders == ["/photos"] and loaded.device == "cpu"
    path.write_text("{not json")
    assert settings_module.load(path) == Settings()
    assert not list(tmp_path.glob(".settings-*"))  # no temporary file left behind


def test_settings_dialog_edits_a_copy(qtbot: Any) -> None:
    from artimuse_desktop.gui.settings_dialog import ModelChoice, SettingsDialog

    original = Settings(theme="dark", batch_size=8)
    dialog = SettingsDialog(
        original,
        [
            ModelChoice("technical", "built in", True, "built in"),
            ModelChoice("artimuse", "ArtiMuse", False, "no model installed"),
        ],
    )
    qtbot.addWidget(dialog)
    dialog.theme.setCurrentIndex(dialog.theme.findData("light"))
    dialog.batch_size.setValue(16)
    dialog.auto_advance.setChecked(True)
    result = dialog.result_settings()
    assert (result.theme, result.batch_size, result.auto_advance) == ("light", 16, True)
    assert (original.theme, original.batch_size) == ("dark", 8)
    unavailable = dialog.model.findData("artimuse")
    assert "no model installed" in str(dialog.model.itemData(unavailable, 3))  # ToolTipRole


def test_light_theme_applies(qtbot: Any, window: Any) -> None:
    from PySide6.QtWidgets import QApplication

    window.set_theme("light")
    app = QApplication.instance()
    assert app is not None and app.property("artimuse_theme") == "light"
    assert app.palette().window().color().name() == "#e6e6e6"
    window.set_theme("dark")
    assert app.palette().window().color().name() == "#2b2b2b"


def test_many_signal_emits_do_not_abort_python() -> None:
    """PySide6 6.12.0 on CPython 3.11 lost a reference to True per emit (and to None per invalid QVariant) and
    aborted the process; the PySide6 version we install must not."""
    code = (
        "import os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "import artimuse_desktop.gui\n"
        "from PySide6.QtCore import QObject, QStringListModel, Qt, Signal\n"
        "class E(QObject):\n"
        "    fired = Signal(object)\n"
        "e = E()\n"
        "for _ in range(20000):\n"
        "    e.fired.emit(None)\n"
        "model = QStringListModel(['a'])\n"
        "index = model.index(0, 0)\n"
        "for _ in range(20000):\n"
        "    index.data(Qt.ItemDataRole.UserRole)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_finder_open_with_events_reach_the_window(qtbot: Any) -> None:
    """macOS delivers "Open with" as a QFileOpenEvent to the application; it must open like `gui PATH`."""
    from PySide6.QtGui import QFileOpenEvent
    from PySide6.QtWidgets import QApplication

    from artimuse_desktop.gui.app import FileOpenForwarder

    opened: list[list[str]] = []
    app = QApplication.instance()
    assert app is not None
    forwarder = FileOpenForwarder(opened.append)
    app.installEventFilter(forwarder)
    try:
        QApplication.sendEvent(app, QFileOpenEvent("/photos/IMG_0001.CR3"))
    finally:
        app.removeEventFilter(forwarder)
    assert opened == [["/photos/IMG_0001.CR3"]]
