"""The export dialog's form: what to export, how, where, under which names, with what reports.

Only widgets and reading them back into an ``ExportRequest``; running the export is ``export_dialog``'s job.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from artimuse_desktop.export.naming import DEFAULT_TEMPLATE
from artimuse_desktop.gui.dialogs.export_job import WHAT, ExportRequest

#: Name templates offered in the drop-down (any other can be typed).
TEMPLATES = (
    DEFAULT_TEMPLATE,
    "{rank}_{original}",
    "{date:%Y-%m-%d}/{original}",
    "{date:%Y%m%d}_{seq}",
    "{score}_{original}",
    "{camera}/{date:%Y%m%d}_{original}",
)
MODES = (("copy", "Copy (verified)"), ("hardlink", "Hard link (same drive)"), ("symlink", "Symbolic link"))
REPORTS = (("csv", "CSV"), ("json", "JSON"), ("html", "HTML contact sheet"))


def _photos(count: int) -> str:
    return f"{count:,} photo" + ("" if count == 1 else "s")


class ExportForm(QWidget):
    """The choices; ``changed`` fires on every edit (the dialog debounces it into a preview)."""

    changed = Signal()

    def __init__(
        self,
        *,
        selection_ids: Sequence[int],
        shown_ids: Sequence[int],
        rank_keys: Sequence[tuple[str, str]],
        dest: str,
        what: str = "picks",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.selection_ids = tuple(selection_ids)
        self.shown_ids = tuple(shown_ids)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._what_box(rank_keys))
        layout.addWidget(self._how_box(dest))
        self.choose(what if what != "selection" or self.selection_ids else "picks")

    # ------------------------------------------------------------------ building

    def _what_box(self, rank_keys: Sequence[tuple[str, str]]) -> QGroupBox:
        box = QGroupBox("What")
        grid = QVBoxLayout(box)
        self.what_group = QButtonGroup(self)
        self.what_buttons: dict[str, QRadioButton] = {}
        counts = {"selection": len(self.selection_ids), "shown": len(self.shown_ids)}
        for key, text in WHAT:
            label = f"{text} ({_photos(counts[key])})" if key in counts else text
            button = QRadioButton(label)
            button.setObjectName(f"what-{key}")
            self.what_group.addButton(button)
            self.what_buttons[key] = button
            button.toggled.connect(self._what_toggled)
            if key != "top":
                grid.addWidget(button)
                continue
            row = QHBoxLayout()
            row.addWidget(button)
            self.top = QSpinBox()
            self.top.setRange(1, 1_000_000)
            self.top.setValue(20)
            self.top.setToolTip("How many of the photos shown in the grid, best first")
            self.top.valueChanged.connect(self.changed)
            row.addWidget(self.top)
            row.addWidget(QLabel("by"))
            self.by = QComboBox()
            for text_key, rank_key in rank_keys:
                self.by.addItem(text_key, rank_key)
            self.by.setToolTip("Rank by the score, an ArtiMuse attribute or a technical measure")
            self.by.currentIndexChanged.connect(self.changed)
            row.addWidget(self.by)
            row.addStretch(1)
            grid.addLayout(row)
        self.what_buttons["selection"].setEnabled(bool(self.selection_ids))
        self.what_buttons["shown"].setEnabled(bool(self.shown_ids))
        self.what_buttons["top"].setEnabled(bool(self.shown_ids))
        return box

    def _how_box(self, dest: str) -> QGroupBox:
        box = QGroupBox("How")
        form = QFormLayout(box)
        self.mode = QComboBox()
        for key, text in MODES:
            self.mode.addItem(text, key)
        self.mode.currentIndexChanged.connect(self.changed)
        form.addRow("Mode", self.mode)
        self.dest = QLineEdit(dest)
        self.dest.setObjectName("exportDest")
        self.dest.textChanged.connect(self.changed)
        choose = QPushButton("Choose…")
        choose.clicked.connect(self.choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.dest, 1)
        row.addWidget(choose)
        form.addRow("Destination", row)
        self.template = QComboBox()
        self.template.setEditable(True)
        self.template.addItems(TEMPLATES)
        self.template.setToolTip(
            "{original} {ext} {date:%Y%m%d} {camera} {lens} {score} {rank} {seq} {label} {rating} {flag}; "
            '"/" makes sub-folders; the extension is added for you'
        )
        self.template.currentTextChanged.connect(self.changed)
        form.addRow("Names", self.template)
        self.preview = QLabel("…")
        self.preview.setObjectName("exportPreview")
        self.preview.setProperty("role", "muted")
        self.preview.setWordWrap(True)
        form.addRow("Preview", self.preview)
        self.force = QCheckBox("Export into the library folder anyway")
        self.force.setToolTip("The next index of the library would catalogue the copies as duplicates")
        self.force.setVisible(False)
        self.force.toggled.connect(self.changed)
        form.addRow("", self.force)
        self.companions = QCheckBox("RAW+JPEG partners travel together")
        self.companions.setChecked(True)
        self.sidecars = QCheckBox("Sidecars (.xmp, .aae) travel together")
        self.sidecars.setChecked(True)
        for box_item in (self.companions, self.sidecars):
            box_item.toggled.connect(self.changed)
        form.addRow("With", self.companions)
        form.addRow("", self.sidecars)
        reports = QHBoxLayout()
        self.reports: dict[str, QCheckBox] = {}
        for key, text in REPORTS:
            check = QCheckBox(text)
            check.setChecked(True)
            self.reports[key] = check
            reports.addWidget(check)
        reports.addStretch(1)
        form.addRow("Reports", reports)
        return box

    # ------------------------------------------------------------------ reading and driving

    def choose(self, what: str) -> None:
        self.what_buttons[what].setChecked(True)

    def what(self) -> str:
        return next((key for key, button in self.what_buttons.items() if button.isChecked()), "picks")

    def _what_toggled(self, checked: bool) -> None:
        if checked:
            self.top.setEnabled(self.what() == "top")
            self.by.setEnabled(self.what() == "top")
            self.changed.emit()

    def set_template(self, text: str) -> None:
        self.template.setEditText(text)

    def choose_folder(self) -> QFileDialog:
        """A folder chooser that does not block (``open()``); the chosen folder lands in ``dest``."""
        chooser = QFileDialog(self, "Export into", self.dest.text())
        chooser.setObjectName("exportFolderChooser")
        chooser.setFileMode(QFileDialog.FileMode.Directory)
        chooser.setOption(QFileDialog.Option.ShowDirsOnly, True)
        chooser.fileSelected.connect(self.dest.setText)
        chooser.open()
        return chooser

    def request(self) -> ExportRequest:
        what = self.what()
        ids = self.selection_ids if what == "selection" else self.shown_ids if what in ("top", "shown") else ()
        return ExportRequest(
            what=what,
            ids=ids,
            top=self.top.value(),
            by=str(self.by.currentData() or "score"),
            dest=self.dest.text().strip(),
            mode=str(self.mode.currentData()),
            template=self.template.currentText().strip() or DEFAULT_TEMPLATE,
            companions=self.companions.isChecked(),
            sidecars=self.sidecars.isChecked(),
            reports=tuple(key for key, check in self.reports.items() if check.isChecked()),
            force=not self.force.isHidden() and self.force.isChecked(),
        )
