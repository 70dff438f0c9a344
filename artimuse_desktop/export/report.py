"""Reports beside an export: CSV and JSON for spreadsheets and scripts, an HTML contact sheet for people.

Each row carries the exported name, the source path, the rank, the score and the model that gave it, the
eight ArtiMuse attributes (score and critique), the technical measures and the photographer's decisions. The
contact sheet is one self-contained file (thumbnails embedded as small base64 JPEGs) that opens in any
browser; all text is HTML-escaped. CSV text cells that a spreadsheet would run as a formula (starting with
``= + - @``, tab or CR) get a leading apostrophe, the usual guard against CSV injection; numbers stay
numbers.
Report files never overwrite anything: an existing ``artimuse-export.csv`` makes the next one
``artimuse-export (2).csv``.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from artimuse_desktop import __version__
from artimuse_desktop.catalog.db import Catalog
from artimuse_desktop.catalog.queries import MEASURE_MODEL, AssessmentRecord, assessments_for, get_score_model
from artimuse_desktop.export.copier import link_no_replace, partial_name, remove_file
from artimuse_desktop.export.naming import camera_name, collision_key, existing_names, with_suffix_number
from artimuse_desktop.export.plan import RAW_EXTENSIONS, ROLE_PAIR, PlanItem
from artimuse_desktop.vocabulary import ATTRIBUTES, LABELS_BY_NAME, Flag, flag_word

log = logging.getLogger(__name__)

REPORT_FORMATS = ("csv", "json", "html")
REPORT_STEM = "artimuse-export"
CONTACT_SHEET_STEM = "contact-sheet"
THUMBNAIL_SIZE = 320
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AttributeCell:
    score: float | None
    critique: str | None
    model: str | None
    experimental: bool = False  # the score is experimental: every report says so beside it


@dataclass(frozen=True)
class MeasureCell:
    value: float
    unit: str
    higher_is_better: bool | None


@dataclass(frozen=True)
class ReportRow:
    """Everything the reports show about one exported photo, as plain data."""

    rank: int
    photo_id: int
    exported_name: str  # relative to DEST, with forward slashes
    companions: tuple[str, ...]
    source_path: str
    score: float | None
    score_model: str | None
    ranked_by: float | None
    flag: int
    rating: int
    label: str | None
    captured_at: datetime | None
    camera: str | None
    lens: str | None
    attributes: dict[str, AttributeCell] = field(default_factory=dict)
    measures: dict[str, MeasureCell] = field(default_factory=dict)
    thumbnail_source: str | None = None


def _attributes(assessments: Sequence[AssessmentRecord], score_model: str) -> dict[str, AttributeCell]:
    """Each attribute from the score model's assessment first, else from any other current one."""
    ordered = sorted(assessments, key=lambda a: (a.model != score_model, a.model))
    cells: dict[str, AttributeCell] = {}
    for assessment in ordered:
        for attribute in assessment.attributes:
            have = cells.get(attribute.attribute)
            if have is None:
                cells[attribute.attribute] = AttributeCell(
                    attribute.score, attribute.critique, attribute.model, attribute.experimental
                )
            elif have.score is None or have.critique is None:
                cells[attribute.attribute] = AttributeCell(
                    have.score if have.score is not None else attribute.score,
                    have.critique if have.critique is not None else attribute.critique,
                    have.model,
                    have.experimental if have.score is not None else attribute.experimental,
                )
    return cells


def _measures(assessments: Sequence[AssessmentRecord]) -> dict[str, MeasureCell]:
    for assessment in assessments:
        if assessment.model == MEASURE_MODEL:
            return {m.name: MeasureCell(m.value, m.unit, m.higher_is_better) for m in assessment.measures}
    return {}


def build_rows(
    catalog: Catalog, items: Iterable[PlanItem], dest: Path, *, score_model: str | None = None
) -> list[ReportRow]:
    """Report rows for the exported items, with their assessments read in one session."""
    rows: list[ReportRow] = []
    with catalog.read() as session:
        model = score_model or get_score_model(session)
        for item in items:
            record = item.photo.record
            assessments = assessments_for(session, record.id)
            thumb = str(item.source)
            if item.source.suffix.lower() in RAW_EXTENSIONS:
                partners = [c.source for c in item.companions if c.role == ROLE_PAIR]
                thumb = str(partners[0]) if partners else thumb
            rows.append(
                ReportRow(
                    rank=item.photo.rank,
                    photo_id=record.id,
                    exported_name=item.destination.relative_to(dest).as_posix(),
                    companions=tuple(c.destination.relative_to(dest).as_posix() for c in item.companions),
                    source_path=record.path,
                    score=record.score,
                    score_model=record.score_model,
                    ranked_by=item.photo.key_value,
                    flag=record.flag,
                    rating=record.rating,
                    label=record.color_label,
                    captured_at=record.captured_at,
                    camera=camera_name(record.camera_make, record.camera_model),
                    lens=record.lens,
                    attributes=_attributes(assessments, model),
                    measures=_measures(assessments),
                    thumbnail_source=thumb,
                )
            )
    return rows


# ---------------------------------------------------------------------------------------------- writing


def free_report_path(dest: Path, stem: str, suffix: str) -> Path:
    """``dest/stem+suffix``, or ``stem (2)+suffix`` and so on when taken (case-insensitively)."""
    taken = existing_names(dest)
    number = 1
    while True:
        name = stem + suffix if number == 1 else with_suffix_number(stem, number) + suffix
        if collision_key(name) not in taken and not os.path.lexists(dest / name):
            return dest / name
        number += 1


def _write_new(dest: Path, stem: str, suffix: str, data: bytes) -> Path:
    """Write ``data`` under a free name, atomically (temporary file, then a no-replace link)."""
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


def _csv_text(value: str | None) -> str:
    if not value:
        return ""
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
            _flag_text(row.flag),
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


def row_dict(row: ReportRow) -> dict[str, Any]:
    return {
        "rank": row.rank,
        "photo_id": row.photo_id,
        "exported_name": row.exported_name,
        "companions": list(row.companions),
        "source_path": row.source_path,
        "score": row.score,
        "score_model": row.score_model,
        "ranked_by": row.ranked_by,
        "decisions": {
            "flag": _flag_text(row.flag) or None,
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
        "score_model": score_model,
        "ranked_by": by or "score",
        "attributes": list(ATTRIBUTES),
        "photos": [row_dict(row) for row in rows],
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


# ---------------------------------------------------------------------------------------------- HTML


def thumbnail_data_uri(path: str | None, size: int = THUMBNAIL_SIZE) -> str | None:
    """A small JPEG of the photo as a data: URI, or None when it cannot be decoded (never raises)."""
    if not path:
        return None
    try:
        from PIL import Image, ImageOps

        try:
            import pillow_heif

            pillow_heif.register_heif_opener()
        except Exception:  # pragma: no cover - optional decoder
            pass
        with Image.open(path) as image:
            image.draft("RGB", (size, size))
            oriented = ImageOps.exif_transpose(image)
            oriented = oriented.convert("RGB")
            oriented.thumbnail((size, size))
            buffer = io.BytesIO()
            oriented.save(buffer, "JPEG", quality=72, optimize=True)
    except Exception as exc:
        log.debug("no thumbnail for %s: %s", path, exc)
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_CSS = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;background:#1e1f22;color:#e6e6e6}
h1{font-size:20px;margin:0 0 4px}.meta{color:#9a9a9a;margin-bottom:20px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:16px}
.card{background:#2b2d31;border-radius:8px;padding:12px;break-inside:avoid}
.thumb{display:flex;align-items:center;justify-content:center;height:240px;background:#111;border-radius:4px}
.thumb img{max-width:100%;max-height:240px}.nothumb{color:#777}
.name{font-weight:600;margin-top:8px;word-break:break-all}.src{color:#8a8a8a;font-size:12px;word-break:break-all}
.score{font-size:22px;font-weight:700;float:right}.rank{color:#9a9a9a}
.decisions{margin:4px 0}.label{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:4px}
table{width:100%;border-collapse:collapse;font-size:12px;margin-top:6px}td{padding:2px 4px;vertical-align:top}
td.v{text-align:right;white-space:nowrap}details{font-size:12px;margin-top:6px}summary{cursor:pointer}
.crit{margin:4px 0 8px;color:#cfcfcf}
.exp{font-size:10px;color:#e0b050;border:1px solid #e0b050;border-radius:3px;padding:0 3px}
@media print{body{background:#fff;color:#000}.card{background:#fff;border:1px solid #ccc}}
"""


def _flag_text(flag: int | None) -> str:
    """ "pick" or "reject" in reports; an unflagged photo shows nothing."""
    return "" if (flag or 0) == Flag.NONE else flag_word(flag)


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _card(row: ReportRow, thumbnails: bool) -> str:
    esc = html.escape
    uri = thumbnail_data_uri(row.thumbnail_source) if thumbnails else None
    image = f'<img src="{uri}" alt="{esc(row.exported_name)}">' if uri else '<span class="nothumb">no preview</span>'
    parts = [f'<div class="card"><div class="thumb">{image}</div>']
    parts.append(f'<div><span class="score">{esc(_fmt(row.score))}</span><span class="rank">#{row.rank}</span></div>')
    parts.append(f'<div class="name">{esc(row.exported_name)}</div>')
    parts.append(f'<div class="src">{esc(row.source_path)}</div>')
    decisions = []
    if row.label:
        colour = LABELS_BY_NAME[row.label].color if row.label in LABELS_BY_NAME else "#888"
        decisions.append(f'<span class="label" style="background:{colour}"></span>{esc(row.label)}')
    if row.rating:
        decisions.append("★" * row.rating)
    if row.flag:
        decisions.append(esc(_flag_text(row.flag)))
    meta = [esc(v) for v in (row.camera, row.lens) if v]
    if row.captured_at:
        meta.append(esc(row.captured_at.strftime("%Y-%m-%d %H:%M")))
    parts.append(f'<div class="decisions">{" · ".join(decisions + meta)}</div>')
    if row.score_model:
        parts.append(f'<div class="src">score by {esc(row.score_model)}</div>')
    rows_html = []
    critiques = []
    for attribute in ATTRIBUTES:
        cell = row.attributes.get(attribute)
        if cell is None:
            continue
        if cell.score is not None:
            tag = ' <span class="exp">experimental</span>' if cell.experimental else ""
            rows_html.append(f'<tr><td>{esc(attribute)}{tag}</td><td class="v">{esc(_fmt(cell.score))}</td></tr>')
        if cell.critique:
            critiques.append(f'<b>{esc(attribute)}</b><div class="crit">{esc(cell.critique)}</div>')
    if rows_html:
        parts.append("<table>" + "".join(rows_html) + "</table>")
    if critiques:
        parts.append("<details><summary>Critiques</summary>" + "".join(critiques) + "</details>")
    if row.measures:
        measure_rows = "".join(
            f'<tr><td>{esc(name)}</td><td class="v">{esc(_fmt(cell.value, 3))} {esc(cell.unit)}</td></tr>'
            for name, cell in sorted(row.measures.items())
        )
        parts.append(f"<details><summary>Technical measures</summary><table>{measure_rows}</table></details>")
    parts.append("</div>")
    return "".join(parts)


def html_bytes(rows: Sequence[ReportRow], *, dest: Path, title: str | None = None, thumbnails: bool = True) -> bytes:
    esc = html.escape
    heading = title or f"ArtiMuse export — {dest.name or dest}"
    created = datetime.now().strftime("%Y-%m-%d %H:%M")
    cards = "\n".join(_card(row, thumbnails) for row in rows)
    document = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(heading)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(heading)}</h1>"
        f'<div class="meta">{len(rows)} photos · {esc(str(dest))} · {esc(created)} · '
        f"ArtiMuse Desktop {esc(__version__)}</div>"
        f'<div class="grid">\n{cards}\n</div></body></html>\n'
    )
    return document.encode("utf-8")


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
