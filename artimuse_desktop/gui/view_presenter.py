"""The window's catalog questions and their answers: which view to ask for, and what each answer changes.

``ViewLoader`` runs the questions off the GUI thread; this presenter builds them from the window's controls
(collection, filter bar, sort, collapsed bursts) and applies the answers to the grid model, the selection, the
counts, the collections panel, the sort menu and the side panel. It keeps what must survive between answers:
the folder to show once the counts arrive, and the selection kept from a partial list (the view's first screens)
to the whole list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from artimuse_desktop.catalog.collections import PhotoDetails, Stats, ViewQuery
from artimuse_desktop.culling.bursts import burst_note
from artimuse_desktop.gui.thumbnail_loader import PREVIEW
from artimuse_desktop.gui.view_answers import BurstQuery, LoadedView

if TYPE_CHECKING:
    from artimuse_desktop.gui.id_list import IdArray


class ViewPresenter:
    def __init__(self, window: Any) -> None:
        self.window = window
        self.catalog_total: int | None = None
        self.select_folder_after_stats: str | None = None
        self._keep_for_whole: tuple[IdArray, int | None] | None = None  # selection kept for the whole list
        queries = window.queries
        queries.view_loaded.connect(self.view_loaded)
        queries.histogram_loaded.connect(window.filter_bar.histogram.set_counts)
        queries.stats_loaded.connect(self.stats_loaded)
        queries.bursts_loaded.connect(self.bursts_found)
        queries.panel_loaded.connect(self.panel_data)
        window.images.updated.connect(self.image_updated)

    # ------------------------------------------------------------------ the view

    def reload_view(self) -> None:
        """Re-run the current collection + filters + sort off the GUI thread."""
        w = self.window
        kind, value = w.collections.selected()
        bursts = w.queries.bursts
        w.queries.reload_view(
            ViewQuery(
                kind=kind,
                value=value,
                bar=w.filter_bar.photo_filter(),
                sort=w.filter_bar.sort_spec(),
                collapse=w.collapse_action.isChecked(),
                burst_ids=bursts.member_ids,
                burst_rest=bursts.rest_ids,
            )
        )

    def view_loaded(self, view: LoadedView) -> None:
        """The view's head (maybe a partial list: the first screens), then, when it was, the whole list."""
        w, result = self.window, view.result
        keep = self._keep_for_whole
        self._keep_for_whole = None
        if keep is not None and view.ids.complete and w.model.complete_ids(view.ids):
            if keep[1] is not None and w.current_id() is None and not w.grid.restore_selection(*keep):
                w.grid.select_id(view.ids.at(0) or 0)  # the kept photo is not in the view after all
            return w.view_reloaded.emit()
        keep_current = (keep[1] if keep is not None else None) or w.current_id()
        self.catalog_total = result.catalog_total
        if not view.ids.equals(w.model.id_list()) or result.score_model != w.model.score_model:
            keep_selected = keep[0] if keep is not None else w.grid.selected_id_array()
            w.model.set_ids(view.ids, result.score_model, view.page_ids)
            restored = w.grid.restore_selection(keep_selected, keep_current)
            if not restored and len(view.ids) and (view.ids.complete or keep_current is None):
                w.grid.select_id(view.ids.at(0) or 0)
            if not view.ids.complete:  # the kept photo may be further down: tried again with the whole list
                self._keep_for_whole = (keep_selected, None if restored else keep_current)
        else:
            w.model.refresh_all()
        w.filter_bar.set_counts(len(view.ids), result.collection_total)
        w.views.update_welcome(self.catalog_total == 0)
        if w.current_id() is None:
            w.side_panel.show_data(None)
        w.view_reloaded.emit()

    # ------------------------------------------------------------------ counts, folders, models, bursts

    def stats_loaded(self, stats: Stats) -> None:
        w = self.window
        w.collections.set_counts(stats.counts)
        w.collections.set_folders(stats.folders)
        w.filter_bar.set_sort_names(stats.measures, stats.attributes)
        w.score_models.show_models(stats.models, stats.score_model)
        folder = self.select_folder_after_stats
        if folder and w.collections.select("folder", folder):
            self.select_folder_after_stats = None
        w.stats_loaded.emit()

    def refresh_bursts(self) -> None:
        self.window.queries.refresh_bursts(self._burst_query())

    def rejudge_bursts(self, photo_ids: frozenset[int]) -> None:
        """Stars changed: the bursts holding these photos choose their kept frame again."""
        self.window.queries.rejudge_bursts(photo_ids, self._burst_query())

    def _burst_query(self) -> BurstQuery:
        w = self.window
        sort = w.filter_bar.sort_spec()
        key = sort.key if sort.key == "score" or sort.key.startswith("attr:") else "score"
        return BurstQuery(key, w.settings.burst_seconds, w.settings.burst_distance)

    def bursts_found(self, membership_changed: bool) -> None:
        w = self.window
        bursts = w.queries.bursts
        w.model.set_bursts(bursts.counts, bursts.rest_ids)
        w.commands.update_enabled()
        if membership_changed:
            kind, _ = w.collections.selected()
            if kind == "bursts" or w.collapse_action.isChecked():
                self.reload_view()
            w.queries.schedule_stats()
        w.bursts_loaded.emit()

    # ------------------------------------------------------------------ the side panel

    def schedule_panel(self) -> None:
        w = self.window
        pid = w.current_id()
        w.queries.schedule_panel(pid)
        record = w.model.cached_record(pid) if pid is not None else None  # else the panel's answer asks
        if pid is not None and record is not None:
            if w.side_panel.current_id() != pid:
                w.side_panel.set_preview(w.images.best(pid)[0])
            w.images.request(record, PREVIEW)

    def panel_data(self, data: PhotoDetails | None) -> None:
        w = self.window
        if data is None:
            if w.current_id() is None:
                w.side_panel.show_data(None)
            return
        if data.record.id != w.current_id():
            return
        w.side_panel.show_data(data)
        w.images.request(data.record, PREVIEW)  # a no-op when asked already or loaded
        w.side_panel.set_burst_note(burst_note(w.queries.bursts.by_member, data.record.id))
        pixmap, _ = w.images.best(data.record.id)
        if pixmap is not None:
            w.side_panel.set_preview(pixmap)
        w.panel_loaded.emit(data.record.id)

    def image_updated(self, photo_id: int, _kind: str) -> None:
        w = self.window
        if photo_id == w.side_panel.current_id():
            w.side_panel.set_preview(w.images.best(photo_id)[0])
