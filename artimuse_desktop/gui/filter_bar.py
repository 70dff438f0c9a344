"""The filter bar: text search, score range over a histogram, flag, rating, colour label, "More filters" (a
threshold per attribute and per technical measure, camera, lens, dates) and the sort order.

Everything the bar holds maps onto one ``filters.PhotoFilter`` and one ``filters.SortSpec``; the window adds
the chosen collection or folder and runs the query off the GUI thread. Typing is debounced so a burst of key
presses makes one query. The choices live in ``filter_choices`` and the popup in ``more_filters``; this module
lays them out and answers the window.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSignalBlocker, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QSizePolicy, QVBoxLayout, QWidget

from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from artimuse_desktop.formatting import count_text
from artimuse_desktop.gui.filter_choices import (
    FLAG_CHOICES,
    RATING_CHOICES,
    LabelToggles,
    SortChooser,
    choice_combo,
)
from artimuse_desktop.gui.histogram import ScoreHistogram, range_text
from artimuse_desktop.gui.more_filters import MoreFilters, MoreFiltersButton

#: How long typing must pause before the search is asked. Short: each question is only the view's head (tens
#: of milliseconds at 300,000 photos) and the loader answers only the newest, so asking as the user types costs
#: little; 60 ms merges the keys of a fast burst (most typists leave 100-200 ms between keys), and the grid
#: follows each word within about 150 ms of its last key.
TYPING_PAUSE_MS = 60


class FilterBar(QFrame):
    """Two rows of filters and the sort; ``changed`` fires (debounced for typing) when anything changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterBar")
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(TYPING_PAUSE_MS)
        self._debounce.timeout.connect(self.changed)

        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search file names and critiques")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(180)
        self.search.textChanged.connect(lambda _text: self._debounce.start())
        self.search.returnPressed.connect(self.apply_now)

        self.flag_combo = choice_combo([text for text, _ in FLAG_CHOICES], "Flag (P pick, X reject, U unflag)")
        self.rating_combo = choice_combo([text for text, _, _ in RATING_CHOICES], "Star rating (0–5 keys)")
        for combo in (self.flag_combo, self.rating_combo):
            combo.currentIndexChanged.connect(self.changed)
        self.labels = LabelToggles()
        self.labels.changed.connect(self.changed)

        self.more = MoreFilters()
        self.more.changed.connect(self._more_changed)
        self.more_button = MoreFiltersButton(self.more)

        self.histogram = ScoreHistogram()
        self.histogram.range_changed.connect(self._range_changed)
        self.range_label = QLabel(range_text(None, None))
        self.range_label.setProperty("role", "muted")
        self.range_label.setMinimumWidth(56)

        self.count_label = QLabel("")
        self.count_label.setObjectName("countLabel")
        self.count_label.setProperty("role", "count")

        self.sort = SortChooser(self)
        self.sort.changed.connect(self.changed)

        row1 = QHBoxLayout()
        row1.setContentsMargins(0, 0, 0, 0)
        row1.setSpacing(6)
        row1.addWidget(self.search, 3)
        row1.addWidget(self.flag_combo)
        row1.addWidget(self.rating_combo)
        row1.addWidget(self.labels)
        row1.addWidget(self.more_button)
        row2 = QHBoxLayout()
        row2.setContentsMargins(0, 0, 0, 0)
        row2.setSpacing(6)
        score_label = QLabel("Score")
        score_label.setProperty("role", "muted")
        row2.addWidget(score_label)
        row2.addWidget(self.histogram, 2)
        row2.addWidget(self.range_label)
        row2.addStretch(1)
        row2.addWidget(self.count_label)
        row2.addSpacing(10)
        sort_label = QLabel("Sort")
        sort_label.setProperty("role", "muted")
        row2.addWidget(sort_label)
        row2.addWidget(self.sort.combo)
        row2.addWidget(self.sort.direction)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(row1)
        layout.addLayout(row2)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    # ------------------------------------------------------------------ inputs from the window

    def set_counts(self, shown: int, total: int) -> None:
        self.count_label.setText(f"{shown:,} of {count_text(total, 'photo')}")

    def set_histogram(self, values: Sequence[float]) -> None:
        self.histogram.set_values(values)

    def set_measure_names(self, names: Sequence[str]) -> None:
        self.more.set_measure_names(names)
        self.sort.set_measure_names(names)

    def set_sort_names(self, measures: Sequence[str], attributes: Sequence[str]) -> None:
        """The measures and attributes this catalog has (from the library stats): the sort offers only those."""
        self.set_measure_names(measures)
        self.sort.set_attribute_names(attributes)

    # ------------------------------------------------------------------ state

    def pending(self) -> bool:
        """Typing is waiting for its debounce."""
        return self._debounce.isActive()

    def apply_now(self) -> None:
        """Apply pending typing at once (Enter in the search box)."""
        if self._debounce.isActive():
            self._debounce.stop()
        self.changed.emit()

    def set_sort(self, key: str, descending: bool) -> None:
        self.sort.set_sort(key, descending)

    def sort_spec(self) -> SortSpec:
        return self.sort.sort_spec()

    def set_score_range(self, low: float | None, high: float | None) -> None:
        self.histogram.set_range(low, high)
        self._range_changed(low, high)

    def photo_filter(self) -> PhotoFilter:
        """The bar's filters as a PhotoFilter (the window adds the collection)."""
        flt = PhotoFilter()
        flt.flags = FLAG_CHOICES[max(0, self.flag_combo.currentIndex())][1]
        _, flt.min_rating, flt.max_rating = RATING_CHOICES[max(0, self.rating_combo.currentIndex())]
        flt.color_labels = self.labels.chosen()
        flt.min_score, flt.max_score = self.histogram.score_range()
        text = self.search.text().strip()
        flt.search = text or None
        self.more.apply_to(flt)
        return flt

    def reset(self) -> None:
        blockers = [QSignalBlocker(w) for w in (self.search, self.flag_combo, self.rating_combo)]
        self.search.clear()
        self.flag_combo.setCurrentIndex(0)
        self.rating_combo.setCurrentIndex(0)
        self.labels.clear()
        self.histogram.set_range(None, None)
        self.range_label.setText(range_text(None, None))
        with QSignalBlocker(self.more):
            self.more.reset()
        self._more_changed()
        del blockers
        self.apply_now()

    # ------------------------------------------------------------------ internals

    def _range_changed(self, low: float | None, high: float | None) -> None:
        self.range_label.setText(range_text(low, high))
        self.changed.emit()

    def _more_changed(self) -> None:
        self.more_button.set_active(self.more.apply_to(PhotoFilter()))
        self._debounce.start()
