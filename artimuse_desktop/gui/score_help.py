"""What the shown score means: which model and version gave it, its scale, and what an absent score says.

One set of texts for the grid's score badge, the side panel's score and attribute numbers, the "Score shown"
combo and Help ▸ What the score means, so a built-in analyzer's 71 is never read as an ArtiMuse judgement.
The texts are plain functions (HTML for Qt's rich-text tooltips, which wrap); ``ScoreHelp`` keeps the model
versions the last library stats found and puts the texts on the window's widgets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox

from artimuse_desktop.catalog.collections import Stats

TECHNICAL = "technical"
ARTIMUSE = "artimuse"

ABSENT_TEXT = "No number (“—”) means the model has not scored the photo, or could not: never a 0."
TECHNICAL_SCALE = (
    "0–100 from measurements of the pixels: 0.85 × Technical Execution + 0.15 × Composition &amp; Design, "
    "each from sub-scores for sharpness, exposure, noise, motion blur, contrast and colour, and for subject "
    "placement and level (the formulas: docs/technical-analyzer.md). "
    "<b>A technical judgement, not an aesthetic one.</b>"
)
ARTIMUSE_SCALE = (
    "0–100: the expected value of the model's probabilities over its 101 score tokens (0, 1, … 100). "
    "An aesthetic judgement by the ArtiMuse vision-language model."
)


def model_family(model: str | None) -> str:
    """ "artimuse" for every ArtiMuse model ("artimuse", "artimuse:8b"), else the model's own name."""
    if model is None:
        return ""
    return ARTIMUSE if model == ARTIMUSE or model.startswith(f"{ARTIMUSE}:") else model


def model_title(model: str) -> str:
    """ "the built-in technical analyzer", "ArtiMuse 8b": what a person calls the model."""
    if model == TECHNICAL:
        return "the built-in technical analyzer"
    if model_family(model) == ARTIMUSE:
        name = model.partition(":")[2]
        return f"ArtiMuse {name}" if name else "ArtiMuse"
    return model


def scale_text(model: str) -> str:
    """The model's scale and what kind of judgement it is (HTML)."""
    if model == TECHNICAL:
        return TECHNICAL_SCALE
    if model_family(model) == ARTIMUSE:
        return ARTIMUSE_SCALE
    return "0–100, as that model defines it (this version of the app does not describe it)."


def versions_text(versions: Sequence[str]) -> str:
    """ "1.0", "1.0 and 1.1" ("" when unknown)."""
    if not versions:
        return ""
    return versions[0] if len(versions) == 1 else ", ".join(versions[:-1]) + f" and {versions[-1]}"


def by_text(model: str, versions: Sequence[str] = ()) -> str:
    """ "technical 1.0", "artimuse:8b w1c2.c3.p4": the model and version a number came from."""
    shown = versions_text(versions)
    return f"{model} {shown}" if shown else model


def score_tooltip(score: float | None, model: str, versions: Sequence[str] = (), error: str | None = None) -> str:
    """The tooltip of a shown score: the number, who gave it, the scale, and what absent means (HTML)."""
    who = escape(by_text(model, versions))
    if score is not None:
        head = f"<b>Score {score:.1f}</b> by {who} ({escape(model_title(model))})"
    elif error:
        head = f"<b>No score</b> from {who}: {escape(error)}"
    else:
        head = f"<b>No score</b>: not scored by {who} ({escape(model_title(model))}) yet"
    return f"<p>{head}</p><p>{scale_text(model)}</p><p>{escape(ABSENT_TEXT)}</p>"


def attribute_tooltip(
    attribute: str, model: str | None, versions: Sequence[str] = (), critique_model: str | None = None
) -> str:
    """The tooltip of one attribute number: which model gave it and what kind of judgement it is (HTML)."""
    if model is None:
        return f"<p>{escape(attribute)}: not assessed by any model yet.</p>"
    lines = [f"<b>{escape(attribute)}</b> by {escape(by_text(model, versions))} ({escape(model_title(model))})"]
    if model == TECHNICAL:
        lines.append("Measured from the pixels: a technical, not aesthetic, judgement.")
    if critique_model and critique_model != model:
        lines.append(f"The critique under it is by {escape(critique_model)} ({escape(model_title(critique_model))}).")
    return "<p>" + "<br>".join(lines) + "</p>"


def help_html(score_model: str, model_versions: Mapping[str, Sequence[str]]) -> str:
    """Help ▸ What the score means: the score shown now, then every model this catalog holds (HTML)."""
    versions = versions_text(model_versions.get(score_model, ()))
    parts = [
        f"<p>The grid, sorts and filters use the score of <b>{escape(score_model)}</b> "
        f"({escape(model_title(score_model))}){f', version {escape(versions)}' if versions else ''}. "
        "Choose another under “Score shown” in the toolbar.</p>",
    ]
    for model in dict.fromkeys([score_model, *sorted(model_versions)]):
        parts.append(f"<p><b>{escape(by_text(model, model_versions.get(model, ())))}</b>: {scale_text(model)}</p>")
    parts.append(
        "<p>Each attribute number in the side panel is tagged with the model that gave it; a critique by another "
        "model says so.</p>"
    )
    parts.append(f"<p>{escape(ABSENT_TEXT)}</p>")
    return "".join(parts)


class ScoreHelp(QObject):
    """Keeps the model versions of the last stats and puts the score texts on the window's widgets."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.model_versions: dict[str, list[str]] = {}
        self.score_model = window.model.score_model or TECHNICAL
        window.queries.stats_loaded.connect(self.stats_loaded)
        self._update_combo()

    def stats_loaded(self, stats: Stats) -> None:
        self.model_versions = {model: list(versions) for model, versions in stats.model_versions.items()}
        self.score_model = stats.score_model
        self.window.model.set_model_versions(self.model_versions)
        self._update_combo()

    def _update_combo(self) -> None:
        combo = self.window.score_model_combo
        current = combo.currentText() or self.score_model
        lead = "<p>Which model's score the grid shows, sorts and filters by.</p>"
        combo.setToolTip(lead + self.model_text(current))
        for index in range(combo.count()):
            model = combo.itemText(index)
            combo.setItemData(index, self.model_text(model), Qt.ItemDataRole.ToolTipRole)

    def model_text(self, model: str) -> str:
        """One model's line: name, version, scale (HTML)."""
        versions = self.model_versions.get(model, ())
        return f"<p><b>{escape(by_text(model, versions))}</b> ({escape(model_title(model))}): {scale_text(model)}</p>"

    def text(self) -> str:
        return help_html(self.score_model, self.model_versions)

    def show(self) -> None:
        box = QMessageBox(self.window)
        box.setWindowTitle("What the score means")
        box.setIcon(QMessageBox.Icon.Information)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(self.text())
        box.setObjectName("scoreHelp")
        box.open()
