"""The settings dialog edits the critique length (tokens per ArtiMuse critique, 1 to 8192)."""

from __future__ import annotations

from typing import Any

from artimuse_desktop.settings import Settings


def test_settings_dialog_edits_the_critique_length(qtbot: Any) -> None:
    from artimuse_desktop.gui.settings_dialog import ModelChoice, SettingsDialog

    original = Settings(critique_max_new_tokens=512)
    dialog = SettingsDialog(original, [ModelChoice("technical", "built in", True, "built in")])
    qtbot.addWidget(dialog)
    assert dialog.critique_length.value() == 512
    assert (dialog.critique_length.minimum(), dialog.critique_length.maximum()) == (1, 8192)
    dialog.critique_length.setValue(2048)
    assert dialog.result_settings().critique_max_new_tokens == 2048
    assert original.critique_max_new_tokens == 512
    dialog.critique_length.setValue(9000)  # the spin box keeps it in range
    assert dialog.result_settings().critique_max_new_tokens == 8192
