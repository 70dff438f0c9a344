"""Saving one photo's scores costs the same in a small and a larger catalog (migration 0006): the sort-value
triggers read the photo's own rows, not every row of a measure or attribute name, also in a catalog SQLite
has no statistics for (every new one)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

from artimuse_desktop.catalog import Catalog
from artimuse_desktop.vocabulary import ATTRIBUTES
from tests.demo_library import bulk_catalog
from tests.factory import add_photo, save_scores, score_result

STEP = 100  # SQLite virtual-machine instructions per progress call: a deterministic count of the work done
MEASURES = {"sharpness": 420.0, "noise": 1.5, "highlight_clipping": 0.4, "exposure": 0.1}


def work_of_saving_one_photo(catalog: Catalog, number: int) -> int:
    """SQLite instructions (hundreds) to store one new photo's technical measures and attribute scores."""
    calls = 0

    def count() -> int:
        nonlocal calls
        calls += 1
        return 0  # go on

    def watch(dbapi_connection: object, record: object, proxy: object) -> None:
        dbapi_connection.set_progress_handler(count, STEP)  # type: ignore[attr-defined]

    photo = add_photo(catalog, f"/photos/new/IMG_{number}.jpg")
    event.listen(catalog.engine, "checkout", watch)
    try:
        save_scores(catalog, "technical", {photo: score_result(61.0, measures=MEASURES)})
        attributes = {name: (55.0 + index, None) for index, name in enumerate(ATTRIBUTES)}
        save_scores(catalog, "artimuse", {photo: score_result(58.0, attributes)})
    finally:
        event.remove(catalog.engine, "checkout", watch)
    return calls


def test_saving_one_photo_does_not_grow_with_the_catalog(tmp_path: Path) -> None:
    work = {}
    for size in (200, 1600):
        with Catalog(tmp_path / f"{size}.sqlite") as catalog:
            bulk_catalog(catalog, size, score_model=None)
            with catalog.engine.connect() as connection:  # as every new catalog: no statistics on these
                assert not connection.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1' AND EXISTS "
                    "(SELECT 1 FROM sqlite_stat1 WHERE tbl IN ('measures', 'attribute_scores'))"
                ).all()
            work[size] = work_of_saving_one_photo(catalog, size + 1)
    # 0005's triggers read every row of a name per row saved: 8x the photos, about 8x the work
    assert work[1600] < 1.3 * work[200], work
