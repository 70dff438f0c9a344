"""How the GUI looks: the neutral palettes, the themes' QSS, text roles and the colour-label colours.

It sits below every widget module (it imports none of them), so the application set-up, the main window's
theme switch and each widget can all use it without importing one another.

Font sizes live here, in code, rather than in the QSS because changing a label's font through a style sheet
while the theme switches crashed Qt 6.12 in QLabel::heightForWidth (word-wrapped labels in a scroll area);
colours and weights in the QSS are safe.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from artimuse_desktop.vocabulary import LABELS

log = logging.getLogger(__name__)

THEMES_DIR = Path(__file__).with_name("themes")

#: Neutral greys only (no colour tint) so photographers judge colour against them.
PALETTES: dict[str, dict[str, str]] = {
    "dark": {
        "window": "#2b2b2b",
        "base": "#222222",
        "alt": "#333333",
        "button": "#3a3a3a",
        "text": "#dedede",
        "muted": "#9a9a9a",
        "bright": "#ffffff",
        "highlight": "#5e5e5e",
        "highlighted_text": "#ffffff",
        "mid": "#474747",
        "dark": "#1a1a1a",
        "tooltip": "#3a3a3a",
    },
    "light": {
        "window": "#e6e6e6",
        "base": "#f4f4f4",
        "alt": "#dadada",
        "button": "#d4d4d4",
        "text": "#1f1f1f",
        "muted": "#636363",
        "bright": "#000000",
        "highlight": "#a8a8a8",
        "highlighted_text": "#000000",
        "mid": "#bdbdbd",
        "dark": "#cfcfcf",
        "tooltip": "#f8f8f8",
    },
}

#: Palette role -> the PALETTES key it is painted with.
_ROLE_KEYS: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.Window: "window",
    QPalette.ColorRole.WindowText: "text",
    QPalette.ColorRole.Base: "base",
    QPalette.ColorRole.AlternateBase: "alt",
    QPalette.ColorRole.ToolTipBase: "tooltip",
    QPalette.ColorRole.ToolTipText: "text",
    QPalette.ColorRole.PlaceholderText: "muted",
    QPalette.ColorRole.Text: "text",
    QPalette.ColorRole.Button: "button",
    QPalette.ColorRole.ButtonText: "text",
    QPalette.ColorRole.BrightText: "bright",
    QPalette.ColorRole.Highlight: "highlight",
    QPalette.ColorRole.HighlightedText: "highlighted_text",
    QPalette.ColorRole.Mid: "mid",
    QPalette.ColorRole.Dark: "dark",
    QPalette.ColorRole.Light: "alt",
    QPalette.ColorRole.Midlight: "mid",
    QPalette.ColorRole.Shadow: "dark",
    QPalette.ColorRole.Link: "bright",
}

#: Text role -> (point size relative to the application font, weight); the QSS colours them by ``role``.
ROLE_FONTS: dict[str, tuple[float, QFont.Weight]] = {
    "heading": (0.85, QFont.Weight.DemiBold),
    "title": (1.15, QFont.Weight.DemiBold),
    "score": (2.7, QFont.Weight.Light),
    "tag": (0.82, QFont.Weight.Normal),
    "hero": (2.3, QFont.Weight.Light),
}

#: Drawn for a label name the vocabulary does not know (an old catalog, another app's word).
UNKNOWN_LABEL_COLOR = "#888888"
_LABEL_COLORS: dict[str, QColor] = {label.name: QColor(label.color) for label in LABELS}


def theme_stylesheet(name: str) -> str:
    """The theme's QSS with ``{themes}`` (its image folder) made absolute, since QSS resolves ``url()`` against
    the working directory."""
    path = THEMES_DIR / f"{name}.qss"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        log.warning("theme %s not found at %s", name, path)
        return ""
    return text.replace("{themes}", THEMES_DIR.as_posix())


def make_palette(name: str) -> QPalette:
    """The theme's greys as a QPalette; disabled text uses the muted grey."""
    colors = PALETTES.get(name, PALETTES["dark"])
    palette = QPalette()
    for role, key in _ROLE_KEYS.items():
        palette.setColor(role, QColor(colors[key]))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colors["muted"]))
    return palette


def apply_theme(app: QApplication, name: str) -> None:
    """Fusion style + a neutral palette + the theme's QSS."""
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(make_palette(name))
    app.setStyleSheet(theme_stylesheet(name))
    app.setProperty("artimuse_theme", name)


def set_role(widget: QWidget, role: str) -> QWidget:
    """Tag ``widget`` with a QSS role and give it that role's font size."""
    widget.setProperty("role", role)
    sizing = ROLE_FONTS.get(role)
    if sizing is not None:
        scale, weight = sizing
        font = QFont(widget.font())
        base = font.pointSizeF() if font.pointSizeF() > 0 else 9.5
        font.setPointSizeF(max(6.5, base * scale))
        font.setWeight(weight)
        widget.setFont(font)
    return widget


def label_qcolor(name: str) -> QColor:
    """The colour a label is drawn in (grid badge, filter bar), from the vocabulary's one table."""
    return QColor(_LABEL_COLORS.get(name) or UNKNOWN_LABEL_COLOR)
