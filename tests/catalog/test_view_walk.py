"""The grid's first rows of an attribute or measure sort under a filter, on both engines: walked along the sort's
index (checking the filter photo by photo), bounded, or read as a set and sorted, as ``photo_ids`` chooses from
the counts it is given; every way, and the whole list's two ways, cut the one order the rule gives. Counts a view
head is given are used as given; the attribute names come off ``sort_values``; a question is called off."""

from __future__ import annotations

import itertools
import random
import threading
from typing import Any

import pytest
from sqlalchemy import select, text, update

from artimuse_desktop.catalog import Catalog, library_stats, queries
from artimuse_desktop.catalog.collections import (
    KnownCounts,
    ViewQuery,
    run_view_head,
    run_view_histogram,
    run_view_page,
    run_view_query,
)
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from artimuse_desktop.catalog.interrupt import CalledOff, Interrupt
from artimuse_desktop.catalog.models import Assessment, AttributeScore, Photo, SortValue
from tests.factory import add_assessment, insert_photos, photo_row, save_scores, score_result, set_score_model

ATTRIBUTE = "Composition & Design"
SORTS = [SortSpec(f"attr:{ATTRIBUTE}", True), SortSpec(f"attr:{ATTRIBUTE}"), SortSpec("measure:sharpness", True)]
FILTERS = {
    "picks": PhotoFilter(flags={1}),
    "rating >= 2": PhotoFilter(min_rating=2),
    "red": PhotoFilter(color_labels={"red"}),
    "some ids": PhotoFilter(ids=list(range(1, 200, 7))),
    "attribute <= 30": PhotoFilter(attr_max={ATTRIBUTE: 30.0}),
    "nothing": PhotoFilter(ids=[]),
}


def library(catalog: Catalog, photos: int = 60, seed: int = 3) -> list[int]:
    """Photos with flags, ratings and labels; most scored by "artimuse" (ties, some without the attribute),
    most measured; one trashed."""
    rng = random.Random(seed)
    rows = []
    for n in range(photos):
        label = rng.choice((None, None, "red", "blue"))
        fields = {"flag": rng.choice((-1, 0, 0, 1)), "rating": rng.randint(0, 5), "color_label": label}
        rows.append(photo_row(f"/lib/{n:03d}.jpg", **fields))
    ids = insert_photos(catalog, rows)
    scored, measured = {}, {}
    for pid in ids:
        if rng.random() < 0.8:
            given = {ATTRIBUTE: (float(rng.choice((10, 30, 50, 50, 70, 90))), None)} if rng.random() < 0.8 else {}
            scored[pid] = score_result(float(rng.randint(0, 100)), given)
        if rng.random() < 0.7:
            measured[pid] = score_result(None, measures={"sharpness": float(rng.randint(0, 4))})
    save_scores(catalog, "artimuse", scored)
    save_scores(catalog, "technical", measured)
    set_score_model(catalog, "artimuse")
    with catalog.write() as session:
        session.execute(update(Photo).where(Photo.id == ids[5]).values(status="trashed"))
    return ids


def by_the_rule(session: Any, flt: PhotoFilter, sort: SortSpec) -> tuple[list[int], list[int]]:
    """Those with a value in the sort's direction (ties by id), and those without, by id."""
    kept = set(queries.photo_ids(session, flt, SortSpec("id")))
    values = dict(session.execute(select(SortValue.photo_id, SortValue.value).where(SortValue.key == sort.key)).all())
    present = sorted((p for p in kept if p in values), key=lambda p: (-values[p] if sort.descending else values[p], p))
    return present, sorted(kept - set(present))


def test_every_way_of_reading_a_value_sort_cuts_the_same_order(catalog: Catalog) -> None:
    library(catalog)
    with catalog.read() as session:
        everyone = queries.count_photos(session)
        for (name, flt), sort in itertools.product(FILTERS.items(), SORTS):
            present, absent = by_the_rule(session, flt, sort)
            want, kept = present + absent, len(present) + len(absent)
            assert queries.photo_id_array(session, flt, sort).tolist() == want  # the set, sorted
            assert queries.photo_id_array(session, flt, sort, set_most=0).tolist() == want  # all in order, less
            cuts = [(0, 5), (3, 7), (max(0, len(present) - 2), 6), (kept + 5, 3)]  # one crosses into the absent
            # no counts: bounded by VALUE_WALK_MOST; as counted; a tight bound (the set after it); the set
            for counts in (None, (kept, everyone), (everyone, everyone), (0, everyone)):
                for offset, limit in cuts:
                    got = queries.photo_ids(session, flt, sort, limit=limit, offset=offset, counts=counts)
                    assert got == want[offset : offset + limit], (name, sort, counts, offset)


def test_a_walk_pays_for_filters_that_keep_many_and_pages_reach_as_far_as_a_walk_is_cheap() -> None:
    assert queries._walk_pays(600, 60_000, 300_000) and not queries._walk_pays(600, 5_000, 300_000)
    assert queries.page_reach(500, 300_000) == 500  # a small view is read as a set at any depth
    reach = queries.page_reach(60_000, 300_000)
    assert 600 < reach < 60_000 and reach == queries.VALUE_PAGE_MOST * 60_000 // 300_000


def test_a_view_head_uses_the_counts_it_is_given_and_agrees_with_the_whole_list(catalog: Catalog) -> None:
    ids = library(catalog)
    sort = SortSpec(f"attr:{ATTRIBUTE}", True)
    picks = ViewQuery("all", None, PhotoFilter(flags={1}), sort, False)
    whole = run_view_query(catalog, picks).ids
    head = run_view_head(catalog, picks, 4)
    assert head.ids.tolist() == whole[:4] and head.count == len(whole)
    assert head.collection_total == head.catalog_total == len(ids) - 1  # the trashed one is not counted
    assert head.page_reach == len(whole)  # a small view: every page is read by offset
    known = run_view_head(catalog, picks, 4, KnownCounts(len(whole), 222, 222))  # as if counted before
    assert (known.ids.tolist(), known.count, known.collection_total, known.catalog_total) == (
        whole[:4],
        len(whole),
        222,
        222,
    )
    page = run_view_page(catalog, picks, 3, 5, (head.count, head.catalog_total))
    assert page == whole[3:8]
    by_time = ViewQuery("all", None, PhotoFilter(flags={1}), SortSpec(), False)
    assert run_view_head(catalog, by_time, 4).page_reach is None  # an index walk: every page is cheap


def test_the_attribute_names_are_those_some_current_assessment_scores(catalog: Catalog) -> None:
    library(catalog, photos=30)
    add_assessment(catalog, 1, model="alpha", attributes={"Lighting": (None, "a critique, no score")})
    add_assessment(catalog, 2, model="zeta", attributes={"Balance": (40.0, None)})
    with catalog.read() as session:
        rule = (
            select(AttributeScore.attribute)
            .join(Assessment, AttributeScore.assessment_id == Assessment.id)
            .where(Assessment.current.is_(True), AttributeScore.score.is_not(None))
            .distinct()
            .order_by(AttributeScore.attribute)
        )
        assert library_stats.attribute_names(session) == list(session.execute(rule).scalars()) == ["Balance", ATTRIBUTE]


def test_a_question_called_off_before_it_starts_is_not_answered(catalog: Catalog) -> None:
    library(catalog, photos=10)
    interrupt = Interrupt()
    interrupt.call_off()
    query = ViewQuery("all", None, PhotoFilter(), SortSpec(), False)
    with pytest.raises(CalledOff):
        run_view_query(catalog, query, interrupt=interrupt)
    with pytest.raises(CalledOff):
        run_view_histogram(catalog, query, interrupt)


@pytest.mark.sqlite_only
def test_a_running_statement_is_interrupted(catalog: Catalog) -> None:
    """A statement that would run for minutes stops once ``call_off`` reaches it (SQLite's interrupt)."""
    interrupt, done = Interrupt(), threading.Event()

    def call_off_until_done() -> None:
        while not done.wait(0.01):  # until the statement has started and stopped: an interrupt between
            interrupt.call_off()  # statements is forgotten by the next one

    endless = text(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000000000) SELECT max(x) FROM c"
    )
    caller = threading.Thread(target=call_off_until_done)
    try:
        with catalog.read() as session, pytest.raises(CalledOff), interrupt.watching(session):
            caller.start()  # once the question is under way: it is called off while its statement runs
            session.execute(endless).scalar()
    finally:
        done.set()
        if caller.is_alive():
            caller.join()
