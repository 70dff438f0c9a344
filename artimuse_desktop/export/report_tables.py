"""The spreadsheet and script reports: CSV (with a guard against formula injection) and JSON.

CSV text cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR) get a leading
apostrophe, the usual guard against CSV injection; numbers stay numbers. File names that are not valid UTF-8
show U+FFFD in both; JSON also keeps their exact bytes in ``*_bytes_b64`` fields beside them (``report_text``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from artimuse_desktop import __version__
from artimuse_desktop.export.report_rows import ReportRow, flag_text
from artimuse_desktop.export.report_text import bytes_b64, shown, shown_everywhere
from artimuse_desktop.vocabulary import ATTRIBUTES

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str | None) -> str:
    if not value:
        return ""
    value = shown(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _number(value: float | None) -> float | str:
    return "" if value is None else round(value, 4)


def measure_names(rows: Sequence[ReportRow]) -> list[str]:
    return sorted({name for row in rows for name in row.measures})


def csv_bytes(rows: Sequence[ReportRow]) -> bytes:
    """UTF-8 CSV with a byte-order mark so spreadsheet programs pick the right encoding."""
    measures = measure_names(rows)
    header = [
        "rank",
        "exported_name",
        "companions",
        "source_path",
        "photo_id",
        "score",
        "score_model",
        "ranked_by",
        "flag",
        "rating",
        "label",
        "captured_at",
        "camera",
        "lens",
    ]
    for attribute in ATTRIBUTES:
        header += [f"{attribute} score", f"{attribute} score experimental", f"{attribute} critique"]
    header += [f"measure:{name}" for name in measures]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        cells: list[Any] = [
            row.rank,
            _csv_text(row.exported_name),
            _csv_text(";".join(row.companions)),
            _csv_text(row.source_path),
            row.photo_id,
            _number(row.score),
            _csv_text(row.score_model),
            _number(row.ranked_by),
            flag_text(row.flag),
            row.rating,
            row.label or "",
            row.captured_at.isoformat() if row.captured_at else "",
            _csv_text(row.camera),
            _csv_text(row.lens),
        ]
        for attribute in ATTRIBUTES:
            cell = row.attributes.get(attribute)
            cells += [
                _number(cell.score) if cell else "",
                "experimental" if cell and cell.score is not None and cell.experimental else "",
                _csv_text(cell.critique) if cell else "",
            ]
        cells += [_number(row.measures[name].value) if name in row.measures else "" for name in measures]
        writer.writerow(cells)
    return buffer.getvalue().encode("utf-8-sig")


def _exact_names(row: ReportRow) -> dict[str, Any]:
    """The exact bytes of the names that are not valid UTF-8 (only those), for scripts that must find them."""
    extra: dict[str, Any] = {}
    for key, value in (("exported_name", row.exported_name), ("source_path", row.source_path)):
        encoded = bytes_b64(value)
        if encoded is not None:
            extra[f"{key}_bytes_b64"] = encoded
    companions = [bytes_b64(name) for name in row.companions]
    if any(companions):
        extra["companions_bytes_b64"] = companions  # aligned with "companions"; null where the name is valid
    return extra


def row_dict(row: ReportRow) -> dict[str, Any]:
    """One photo for the JSON report; strings may still hold surrogate escapes (``json_bytes`` shows them)."""
    return {
        "rank": row.rank,
        "photo_id": row.photo_id,
        "exported_name": row.exported_name,
        "companions": list(row.companions),
        "source_path": row.source_path,
        **_exact_names(row),
        "score": row.score,
        "score_model": row.score_model,
        "ranked_by": row.ranked_by,
        "decisions": {
            "flag": flag_text(row.flag) or None,
            "rating": row.rating,
            "label": row.label,
        },
        "captured_at": row.captured_at.isoformat() if row.captured_at else None,
        "camera": row.camera,
        "lens": row.lens,
        "attributes": {
            name: {
                "score": cell.score,
                "experimental": cell.experimental if cell.score is not None else None,
                "critique": cell.critique,
                "model": cell.model,
            }
            for name, cell in ((a, row.attributes.get(a)) for a in ATTRIBUTES)
            if cell is not None
        },
        "measures": {
            name: {"value": cell.value, "unit": cell.unit, "higher_is_better": cell.higher_is_better}
            for name, cell in sorted(row.measures.items())
        },
    }


def json_bytes(rows: Sequence[ReportRow], *, dest: Path, score_model: str | None, by: str | None = None) -> bytes:
    document = {
        "generator": f"ArtiMuse Desktop {__version__}",
        "created_at": datetime.now().isoformat(timespec="seconds"),
        "export_folder": str(dest),
        **({"export_folder_bytes_b64": exact} if (exact := bytes_b64(str(dest))) else {}),
        "score_model": score_model,
        "ranked_by": by or "score",
        "attributes": list(ATTRIBUTES),
        "photos": [row_dict(row) for row in rows],
    }
    return json.dumps(shown_everywhere(document), ensure_ascii=False, indent=2).encode("utf-8")
