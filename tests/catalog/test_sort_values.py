"""``sort_values`` (migration 0005) holds what ``shown_values`` shows, whoever writes, on both engines; the grid's
sorts read it in index order and give the order the plain rule gives."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from artimuse_desktop.catalog import Catalog, library_stats, queries
from artimuse_desktop.catalog.filters import PhotoFilter, SortSpec
from artimuse_desktop.catalog.models import Assessment, Photo, SortValue
from artimuse_desktop.catalog.shown_values import attribute_values, technical_measures
from tests.catalog.frozen import assert_frozen_data, frozen_copy
from tests.factory import add_assessment, add_photo, set_score_model

ATTRIBUTES = ("Composition & Design", "Lighting", "Theme & Communication")
MODELS = ("artimuse", "alpha", "zeta")


def expected(catalog: Catalog) -> dict[tuple[str, int], float]:
    """Every shown value by the Python rule, read photo by photo."""
    values: dict[tuple[str, int], float] = {}
    with catalog.read() as session:
        model = queries.get_score_model(session)
        for (pid,) in session.execute(select(Photo.id)):
            assessments = queries.assessments_for(session, pid)
            for name, value in attribute_values(assessments, model).items():
                if value.score is not None:
                    values[(f"attr:{name}", pid)] = value.score
            for measure in technical_measures(assessments):
                values[(f"measure:{measure.name}", pid)] = measure.value
    return values


def stored(catalog: Catalog) -> dict[tuple[str, int], float]:
    with catalog.read() as session:
        return {(k, p): v for k, p, v in session.execute(select(SortValue.key, SortValue.photo_id, SortValue.value))}


def assert_agrees(catalog: Catalog) -> None:
    want, have = expected(catalog), stored(catalog)
    assert have.keys() == want.keys()
    assert all(have[k] == pytest.approx(want[k]) for k in want)


def random_library(catalog: Catalog, photos: int = 24, seed: int = 5) -> list[int]:
    """Photos scored by some of three models, each giving some attributes (ties and gaps included)."""
    rng = random.Random(seed)
    ids = [add_photo(catalog, f"/lib/{n:03d}.jpg", captured_at=None) for n in range(photos)]
    for pid in ids:
        for model in MODELS:
            if rng.random() < 0.6:
                given = {a: (float(rng.choice((10, 50, 50, 90))), None) for a in ATTRIBUTES if rng.random() < 0.7}
                add_assessment(catalog, pid, model=model, score=rng.choice((None, 40.0, 70.0)), attributes=given)
        if rng.random() < 0.7:
            add_assessment(catalog, pid, model="technical", measures={"sharpness": float(rng.randint(0, 3))})
    return ids


def test_sort_values_follow_the_shown_values_rule_through_every_kind_of_write(catalog: Catalog) -> None:
    ids = random_library(catalog)
    set_score_model(catalog, "artimuse")
    assert_agrees(catalog)
    set_score_model(catalog, "zeta")  # another model's value shows where two give one
    assert_agrees(catalog)
    add_assessment(catalog, ids[0], model="alpha", version="2.0", attributes={ATTRIBUTES[0]: (1.0, None)})
    assert_agrees(catalog)  # a rescore: the new version current, the old one not
    with catalog.write() as session:
        session.execute(update(Assessment).where(Assessment.photo_id == ids[1]).values(current=False))
        session.execute(delete(Assessment).where(Assessment.photo_id == ids[2], Assessment.model == "zeta"))
        session.execute(delete(Photo).where(Photo.id == ids[3]))
    assert_agrees(catalog)
    assert not [k for k in stored(catalog) if k[1] in (ids[1], ids[3])]


@pytest.mark.parametrize("key", [f"attr:{ATTRIBUTES[0]}", "measure:sharpness", "score", "rating", "captured_at"])
@pytest.mark.parametrize("descending", [False, True])
def test_index_ordered_sorts_give_the_order_of_the_rule(catalog: Catalog, key: str, descending: bool) -> None:
    """Present values first in the direction asked, ties and absent values in id order; limits and offsets
    across the two halves cut the same list."""
    ids = random_library(catalog, photos=30)
    set_score_model(catalog, "artimuse")
    with catalog.write() as session:  # ratings and capture times with ties and gaps
        for n, pid in enumerate(ids):
            session.execute(update(Photo).where(Photo.id == pid).values(rating=n % 3))
    values = {p: v for (k, p), v in expected(catalog).items() if k == key}
    with catalog.read() as session:
        records = {r.id: r for r in queries.query_photos(session)}
        if key == "score":
            values = {p: r.score for p, r in records.items() if r.score is not None}
        elif key == "rating":
            values = {p: r.rating for p, r in records.items()}
        elif key == "captured_at":
            values = {}
        present = sorted(values, key=lambda p: (-values[p] if descending else values[p], p))
        want = present + sorted(set(records) - set(values))
        sort = SortSpec(key, descending)
        assert queries.photo_ids(session, sort=sort) == want
        cut = max(0, len(present) - 3)
        assert queries.photo_ids(session, sort=sort, limit=7, offset=cut) == want[cut:][:7]
        assert list(queries.photo_id_array(session, sort=sort)) == want
        half = PhotoFilter(ids=ids[::2])
        assert queries.photo_ids(session, half, sort) == [p for p in want if p in set(ids[::2])]


def test_search_finds_file_names_by_any_part_and_critiques_by_word(catalog: Catalog) -> None:
    first = add_photo(catalog, "/lib/Horizon_Light-01.jpg")
    add_photo(catalog, "/lib/other.jpg")
    third = add_photo(catalog, "/lib/x.jpg")
    add_assessment(catalog, third, model="artimuse", attributes={ATTRIBUTES[0]: (50.0, "A low horizon, soft light")})
    with catalog.read() as session:
        assert queries.photo_ids(session, PhotoFilter(search="zon_li")) == [first]
        assert queries.photo_ids(session, PhotoFilter(search="horizon light"), SortSpec("id")) == [third]
        assert queries.photo_ids(session, PhotoFilter(search="HORIZON"), SortSpec("id")) == [first, third]
        assert queries.photo_ids(session, PhotoFilter(search="x.")) == [third]  # under three characters


def test_the_histogram_bins_as_numpy_does(catalog: Catalog) -> None:
    from artimuse_desktop.catalog.collections import histogram_counts

    scores = [0.0, 1.99, 2.0, 49.999, 50.0, 99.9, 100.0, 130.0, -5.0]
    for n, score in enumerate(scores):
        add_assessment(catalog, add_photo(catalog, f"/lib/{n}.jpg"), score=score)
    with catalog.read() as session:
        assert library_stats.score_histogram(session) == histogram_counts(scores)


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    "name",
    [f"catalog-000{n}.sqlite" for n in range(1, 8)],
)
def test_an_upgrade_fills_sort_values_and_keeps_the_data(tmp_path: Path, name: str) -> None:
    """Each released schema upgrades to one whose sort_values agree with the rule; 0005 on keep theirs."""
    with Catalog(frozen_copy(name, tmp_path)) as catalog:
        assert_frozen_data(catalog)
        assert stored(catalog) == {
            ("attr:Technical Execution", 1): 80.0,
            ("measure:sharpness", 1): 0.8,
        }
        assert_agrees(catalog)
        with catalog.read() as session:
            assert queries.photo_ids(session, sort=SortSpec("attr:Technical Execution", True))[0] == 1
