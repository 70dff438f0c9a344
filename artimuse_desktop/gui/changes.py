"""What an operation changed, so the window decides once what to refresh (Anki's ``OpChanges``).

Every operation reports a ``Changes``: a decision, keep best, undo/redo, a score-model change, an indexing or
scoring job finishing, a change another process made to the catalog. ``MainWindow.apply_changes`` is the only
place that turns one into refreshes, so no refresh sequence is written twice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Changes:
    photo_ids: frozenset[int] = frozenset()  # rows whose decisions changed (repainted in place)
    decisions: bool = False  # flags, stars or labels: counts and panels follow
    photos: bool = False  # photos added, moved, gone, re-read: thumbnails and the view are re-read
    scores: bool = False  # assessments written: every shown score, the view's order and the panel
    score_model: bool = False  # the model whose score is shown changed
    bursts: bool = False  # burst grouping may differ (new photos, new scores, other settings)
    folders: bool = False  # the folder list may differ
    view: bool = False  # the grid's query must run again (collapse toggled, filters)
    ratings: bool = False  # stars changed: the bursts holding ``photo_ids`` choose their kept frame again

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            self.photo_ids | other.photo_ids,
            *(getattr(self, name) or getattr(other, name) for name in _FLAGS),
        )

    @classmethod
    def everything(cls) -> Changes:
        """Another process changed the catalog: we cannot know what, so everything is read again."""
        return cls(decisions=True, photos=True, scores=True, score_model=True, bursts=True, folders=True, view=True)

    @property
    def needs_view(self) -> bool:
        return self.view or self.photos or self.scores or self.score_model or self.folders

    @property
    def needs_stats(self) -> bool:
        return self.decisions or self.needs_view or self.bursts


_FLAGS = ("decisions", "photos", "scores", "score_model", "bursts", "folders", "view", "ratings")
