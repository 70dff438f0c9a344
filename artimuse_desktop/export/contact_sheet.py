"""The HTML contact sheet: one self-contained file that opens in any browser, for people rather than scripts.

Thumbnails are embedded as small base64 JPEGs; all text is HTML-escaped, and file names that are not valid
UTF-8 show U+FFFD where the bad bytes were (``report_text``).
"""

from __future__ import annotations

import base64
import html
import io
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from artimuse_desktop import __version__
from artimuse_desktop.export.report_rows import ReportRow, flag_text
from artimuse_desktop.export.report_text import shown
from artimuse_desktop.vocabulary import ATTRIBUTES, LABELS_BY_NAME

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = 320


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


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def esc(text: str) -> str:
    """HTML-escaped text that can be written as UTF-8 (undecodable name bytes shown as U+FFFD)."""
    return html.escape(shown(text))


def _card(row: ReportRow, thumbnails: bool) -> str:
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
        decisions.append(esc(flag_text(row.flag)))
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
    heading = title or f"ArtiMuse export — {dest.name or dest}"
    created = datetime.now().strftime("%Y-%m-%d %H:%M")
    cards = "\n".join(_card(row, thumbnails) for row in rows)
    document = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="generator" content="ArtiMuse Desktop {esc(__version__)}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(heading)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(heading)}</h1>"
        f'<div class="meta">{len(rows)} photos · {esc(str(dest))} · {esc(created)} · '
        f"ArtiMuse Desktop {esc(__version__)}</div>"
        f'<div class="grid">\n{cards}\n</div></body></html>\n'
    )
    return document.encode("utf-8")
