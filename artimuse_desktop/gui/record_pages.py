"""The grid's cache of record pages: which pages of ``PAGE`` rows are held, which are stale, in what order
they were last used.

A page is read for painting (``gui.grid_model``) and kept while it is among the ``max_pages`` used last. A
decision marks the pages holding its photos *stale*: they still paint (no blank flash) until they are read
again, but ``record`` never answers a changed photo from them. Each marking has a number (``stamp``): a read
begun before a later marking leaves its page stale, so a decision made while a page is read is never lost.
No Qt and no SQL here: the model decides when and where pages are read.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

from artimuse_desktop.catalog.records import PhotoRecord

Page = dict[int, PhotoRecord]


class RecordPages:
    """Pages of records by page number, least recently used dropped first."""

    def __init__(self, max_pages: int) -> None:
        self.max_pages = max_pages
        self._pages: OrderedDict[int, Page] = OrderedDict()
        self._stale: dict[int, int] = {}  # page -> the marking that made it stale
        self._markings = 0
        self._stale_ids: set[int] = set()  # the changed photos on stale pages

    def __contains__(self, page_no: int) -> bool:
        return page_no in self._pages

    def use(self, page_no: int) -> Page | None:
        """The page (stale or not), now the most recently used; None when not held."""
        page = self._pages.get(page_no)
        if page is not None:
            self._pages.move_to_end(page_no)
        return page

    def is_stale(self, page_no: int) -> bool:
        return page_no in self._stale

    def is_fresh(self, page_no: int) -> bool:
        """Held and up to date: no need to read it again."""
        return page_no in self._pages and page_no not in self._stale

    def stamp(self, page_no: int) -> int | None:
        """The page's stale marking, to hand back to ``store`` with the read that began now."""
        return self._stale.get(page_no)

    def store(self, page_no: int, page: Page, stamp: int | None = None) -> None:
        """Keep a page read; it stays stale when it was marked again after its read began (``stamp``)."""
        self._pages[page_no] = page
        self._pages.move_to_end(page_no)
        if page_no in self._stale and self._stale[page_no] == stamp:
            del self._stale[page_no]
        if self._stale_ids and page_no not in self._stale:
            self._stale_ids.difference_update(page)
        while len(self._pages) > self.max_pages:
            dropped, _ = self._pages.popitem(last=False)
            self._stale.pop(dropped, None)

    def drop(self, page_no: int) -> None:
        self._pages.pop(page_no, None)
        self._stale.pop(page_no, None)

    def clear(self) -> None:
        self._pages.clear()
        self._stale.clear()
        self._stale_ids.clear()

    def record(self, page_no: int, photo_id: int) -> PhotoRecord | None:
        """This photo's record if its page is held and the photo did not change since (else None)."""
        if photo_id in self._stale_ids:
            return None
        page = self._pages.get(page_no)
        return page.get(photo_id) if page is not None else None

    def held_ids(self) -> set[int]:
        """Every photo on a held page."""
        return {pid for page in self._pages.values() for pid in page}

    def holding(self, photo_ids: Iterable[int]) -> tuple[AbstractSet[int], list[int]]:
        """These ids as a set, and the held pages with any of them: O(held pages), whatever their number."""
        wanted = photo_ids if isinstance(photo_ids, AbstractSet) else set(photo_ids)
        return wanted, [page_no for page_no, page in self._pages.items() if not wanted.isdisjoint(page)]

    def mark_stale(self, page_nos: Iterable[int], changed: AbstractSet[int]) -> None:
        """These held pages are to be read again: ``changed`` photos on them are not answered until then."""
        self._markings += 1
        for page_no in page_nos:
            page = self._pages.get(page_no)
            if page is None:
                continue
            self._stale[page_no] = self._markings
            self._stale_ids.update(pid for pid in page if pid in changed)
