"""photos.score, the trigger-kept copy of the chosen model's current score, stays right whoever writes."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from artimuse_desktop.catalog import Catalog, library_stats, queries
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from artimuse_desktop.catalog.models import Assessment, Photo
from tests.factory import add_assessment, add_photo


def cached(catalog: Catalog) -> dict[int, float | None]:
    with catalog.read() as session:
        return {pid: score for pid, score in session.execute(select(Photo.id, Photo.score))}


def test_the_cached_score_follows_assessments_and_the_chosen_model(catalog: Catalog) -> None:
    a, b, c = (add_photo(catalog, f"/lib/{n}.jpg") for n in "abc")
    add_assessment(catalog, a, "technical", 70.0)
    add_assessment(catalog, b, "technical", 40.0)
    add_assessment(catalog, b, "artimuse:ArtiMuse", 90.0)
    assert cached(catalog) == {a: 70.0, b: 40.0, c: None}

    with catalog.write() as session:
        queries.set_score_model(session, "artimuse:ArtiMuse")
    assert cached(catalog) == {a: None, b: 90.0, c: None}

    # A newer model version takes over; the old one stops being current.
    with catalog.write() as session:
        session.execute(
            update(Assessment)
            .where(Assessment.photo_id == b, Assessment.model == "artimuse:ArtiMuse")
            .values(current=False)
        )
    add_assessment(catalog, b, "artimuse:ArtiMuse", 55.0, version="2")
    assert cached(catalog)[b] == 55.0

    with catalog.write() as session:
        session.execute(delete(Assessment).where(Assessment.model == "artimuse:ArtiMuse"))
    assert cached(catalog) == {a: None, b: None, c: None}
    with catalog.write() as session:
        queries.set_score_model(session, "technical")
    assert cached(catalog) == {a: 70.0, b: 40.0, c: None}


def test_sorting_by_the_chosen_model_and_by_another_agree(catalog: Catalog) -> None:
    ids = [add_photo(catalog, f"/lib/{n}.jpg") for n in range(6)]
    for pid, score in zip(ids, [50, 10, None, 90, 30, 70], strict=True):
        if score is not None:
            add_assessment(catalog, pid, "technical", float(score))
            add_assessment(catalog, pid, "other", float(score))
    sort = SortSpec("score", descending=True)
    with catalog.read() as session:
        by_cache = queries.photo_ids(session, sort=sort)  # technical is the chosen model: photos.score
        by_join = queries.photo_ids(session, sort=sort, score_model="other")  # joins assessments
        assert by_cache == by_join == [ids[3], ids[5], ids[0], ids[4], ids[1], ids[2]]
        flt = PhotoFilter(min_score=30)
        assert queries.count_photos(session, flt) == queries.count_photos(session, flt, score_model="other") == 4
        assert sorted(library_stats.score_values(session)) == sorted(
            library_stats.score_values(session, score_model="other")
        )
