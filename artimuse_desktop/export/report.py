"""Reports beside an export: CSV and JSON for spreadsheets and scripts, an HTML contact sheet for people.

Each row carries the exported name, the source path, the rank, the score and the model that gave it, the
eight ArtiMuse attributes (score and critique), the technical measures and the photographer's decisions
(``report_rows``); ``report_tables`` writes CSV and JSON, ``contact_sheet`` the HTML page.
A report describes what the folder holds from this export, so exporting the same photos again replaces the
report an earlier export wrote (atomically); a file of the same name that is not one of our reports is never
touched, and the new report takes ``artimuse-export (2).csv`` instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.queries import get_score_model
from artimuse_desktop.export.contact_sheet import html_bytes
from artimuse_desktop.export.copier import link_no_replace, partial_name, remove_file
from artimuse_desktop.export.naming import collision_key, existing_names, with_suffix_number
from artimuse_desktop.export.plan import PlanItem
from artimuse_desktop.export.report_rows import build_rows
from artimuse_desktop.export.report_tables import csv_bytes, json_bytes

REPORT_FORMATS = ("csv", "json", "html")
REPORT_STEM = "artimuse-export"
CONTACT_SHEET_STEM = "contact-sheet"


def free_report_path(dest: Path, stem: str, suffix: str) -> Path:
    """``dest/stem+suffix``, or ``stem (2)+suffix`` and so on when taken (case-insensitively)."""
    taken = existing_names(dest)
    number = 1
    while True:
        name = stem + suffix if number == 1 else with_suffix_number(stem, number) + suffix
        if collision_key(name) not in taken and not os.path.lexists(dest / name):
            return dest / name
        number += 1


#: What the first bytes of each of our reports hold (a file without it is someone else's and is never replaced).
_OURS = {
    ".csv": b"exported_name",
    ".json": b'"generator": "ArtiMuse Desktop',
    ".html": b'<meta name="generator" content="ArtiMuse Desktop',
}


def _ours(path: Path, suffix: str) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return _OURS[suffix] in head


def _write_new(dest: Path, stem: str, suffix: str, data: bytes) -> Path:
    """Write ``data`` atomically: over our own earlier report of this name, else under a free name."""
    own = dest / (stem + suffix)
    if own.is_file() and not own.is_symlink() and _ours(own, suffix):
        partial = partial_name(own)
        try:
            with open(partial, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, own)
            return own
        finally:
            if partial.exists():
                remove_file(partial)
    for _attempt in range(20):
        final = free_report_path(dest, stem, suffix)
        partial = partial_name(final)
        try:
            with open(partial, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            link_no_replace(partial, final)
            return final
        except FileExistsError:
            continue  # someone took the name in between: pick the next one
        finally:
            if partial.exists():
                remove_file(partial)
    raise OSError(f"no free name for {stem}{suffix} in {dest}")


def write_reports(
    catalog: Catalog,
    items: Sequence[PlanItem],
    dest: str | Path,
    formats: Iterable[str] = REPORT_FORMATS,
    *,
    score_model: str | None = None,
    by: str | None = None,
    thumbnails: bool = True,
) -> list[Path]:
    """Write the chosen reports into ``dest`` and return their paths (nothing is ever overwritten)."""
    dest_path = Path(dest)
    wanted = [f.strip().lower() for f in formats if f.strip()]
    unknown = [f for f in wanted if f not in REPORT_FORMATS]
    if unknown:
        raise ValueError(f"unknown report format {unknown[0]!r}; use {', '.join(REPORT_FORMATS)} or none")
    if not wanted:
        return []
    rows = build_rows(catalog, items, dest_path, score_model=score_model)
    model = score_model
    if model is None:
        with catalog.read() as session:
            model = get_score_model(session)
    os.makedirs(dest_path, exist_ok=True)
    written: list[Path] = []
    if "csv" in wanted:
        written.append(_write_new(dest_path, REPORT_STEM, ".csv", csv_bytes(rows)))
    if "json" in wanted:
        written.append(
            _write_new(dest_path, REPORT_STEM, ".json", json_bytes(rows, dest=dest_path, score_model=model, by=by))
        )
    if "html" in wanted:
        written.append(
            _write_new(
                dest_path,
                CONTACT_SHEET_STEM,
                ".html",
                html_bytes(rows, dest=dest_path, thumbnails=thumbnails),
            )
        )
    return written
