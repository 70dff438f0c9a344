"""Text roles shared by the widgets: the QSS colours them by ``role``; sizes are set here, in code.

Font sizes live here rather than in the QSS because changing a label's font through a style sheet while the
theme switches crashed Qt 6.12 in QLabel::heightForWidth (word-wrapped labels in a scroll area); colours and
weights in the QSS are safe.
"""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

#: role -> (point size relative to the application font, weight)
ROLE_FONTS: dict[str, tuple[float, QFont.Weight]] = {
    "heading": (0.85, QFont.Weight.DemiBold),
    "title": (1.15, QFont.Weight.DemiBold),
    "score": (2.7, QFont.Weight.Light),
    "tag": (0.82, QFont.Weight.Normal),
    "hero": (2.3, QFont.Weight.Light),
}


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
