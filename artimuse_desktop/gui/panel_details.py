"""The side panel's facts about the photo: its decisions line, the technical measures with their notes, and
the EXIF rows.

The text is made by plain functions (no widgets) so what the panel says can be read and tested apart from Qt
layout; the two widgets here only lay those lines out.
"""

from __future__ import annotations

from artimuse_desktop.catalog.records import MeasureRecord, PhotoRecord
from artimuse_desktop.formatting import camera_name
from artimuse_desktop.vocabulary import Flag

FLAG_TEXT: dict[int, str] = {Flag.PICK: "⚑ Pick", Flag.REJECT: "✕ Reject"}


#: What a decision imported from elsewhere says about where it came from (made here: nothing).
SOURCE_TEXT: dict[str | None, str] = {"sidecar": " (from the sidecar)", "file": " (from the file)"}


def decision_text(record: PhotoRecord) -> str:
    """ "⚑ Pick   ·   ★★★★★ (from the file)   ·   red label": flag, stars and colour label on one line, each
    imported one saying where it came from."""
    flag = FLAG_TEXT.get(record.flag, "Unflagged")
    if record.flag:
        flag += SOURCE_TEXT.get(record.flag_source, "")
    stars = "★" * record.rating + "☆" * (5 - record.rating)
    if record.rating:
        stars += SOURCE_TEXT.get(record.rating_source, "")
    label = ""
    if record.color_label:
        label = f"   ·   {record.color_label} label{SOURCE_TEXT.get(record.label_source, '')}"
    return f"{flag}   ·   {stars}{label}"


def format_measure(measure: MeasureRecord) -> str:
    """The number alone ("123", "0.42", "1,234"); the unit goes on the detail line under it."""
    if measure.value == 0 or abs(measure.value) >= 1000:
        return f"{measure.value:,.0f}"
    return f"{measure.value:.3g}"


def measure_detail(measure: MeasureRecord) -> str:
    """ "LoG variance · higher is better · <note>": the unit, which way is better, and the analyzer's note."""
    parts = []
    if measure.unit and measure.unit not in ("", "1"):
        parts.append(measure.unit)
    if measure.higher_is_better is not None:
        parts.append("higher is better" if measure.higher_is_better else "lower is better")
    if measure.note:
        parts.append(measure.note)
    return "  ·  ".join(parts)


def breakable(text: str) -> str:
    """Let long paths wrap after their separators (a zero-width space after each one)."""
    return text.replace("/", "/\u200b").replace("\\", "\\\u200b")


def exif_rows(record: PhotoRecord) -> list[tuple[str, str]]:
    """(caption, value) for what the file's metadata says, in reading order; missing fields are left out."""
    rows: list[tuple[str, str]] = []
    camera = camera_name(record.camera_make, record.camera_model)
    if camera:
        rows.append(("Camera", camera))
    if record.lens:
        rows.append(("Lens", record.lens))
    exposure: list[str] = []
    if record.focal_length:
        exposure.append(f"{record.focal_length:.0f} mm")
    if record.aperture:
        exposure.append(f"f/{record.aperture:.1f}".replace(".0", ""))
    if record.shutter:
        exposure.append(f"1/{round(1 / record.shutter)} s" if record.shutter < 1 else f"{record.shutter:g} s")
    if record.iso:
        exposure.append(f"ISO {record.iso}")
    if exposure:
        rows.append(("Exposure", "   ".join(exposure)))
    if record.captured_at:
        rows.append(("Captured", record.captured_at.strftime("%Y-%m-%d %H:%M:%S")))
    if record.width and record.height:
        megapixels = record.width * record.height / 1e6
        rows.append(("Size", f"{record.width} × {record.height}  ({megapixels:.1f} MP)"))
    rows.append(("File", f"{record.format or '?'} · {record.size / 1e6:.1f} MB"))
    if record.gps_lat is not None and record.gps_lon is not None:
        rows.append(("GPS", f"{record.gps_lat:.5f}, {record.gps_lon:.5f}"))
    rows.append(("Folder", record.folder))
    return rows
