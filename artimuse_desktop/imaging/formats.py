"""Identify a file's image format from its content (magic bytes), not from its name.

A PNG named ``.jpg`` is a PNG; a text file named ``.jpg`` is "not an image (looks like text)". The extension
is only a hint where content alone cannot decide: many camera RAW formats are TIFF files underneath, so a TIFF
header with a ``.nef`` name is a NEF, while the same bytes named ``.tif`` are a TIFF. Content that settles the
question on its own wins over the name: a DNGVersion tag means DNG, Canon's ``CR\\x02`` marker means CR2,
Olympus and Panasonic use their own TIFF magic numbers, Fujifilm RAF and Canon CR3 have their own headers.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import BinaryIO

from artimuse_desktop.errors import DecodeError

# Formats Pillow decodes (values: Pillow's format names, used to skip Pillow's format probing).
PILLOW_FORMATS: dict[str, str] = {
    "JPEG": "JPEG",
    "PNG": "PNG",
    "TIFF": "TIFF",
    "WEBP": "WEBP",
    "HEIC": "HEIF",  # pillow-heif's plugin
    "AVIF": "AVIF",
}

# Camera RAW formats, decoded with rawpy (LibRaw).
RAW_FORMATS: frozenset[str] = frozenset(
    {
        "DNG", "CR2", "CR3", "NEF", "NRW", "ARW", "SRF", "SR2", "RAF", "ORF", "RW2", "RWL", "PEF", "SRW",
        "3FR", "ERF", "IIQ", "MOS", "MEF", "KDC", "DCR",
    }
)  # fmt: skip

SUPPORTED_FORMATS: frozenset[str] = frozenset(PILLOW_FORMATS) | RAW_FORMATS

# RAW formats that are plain TIFF containers: only the extension (or the maker) tells them from a TIFF.
_TIFF_RAW_EXTENSIONS: dict[str, str] = {
    ".dng": "DNG", ".cr2": "CR2", ".nef": "NEF", ".nrw": "NRW", ".arw": "ARW", ".srf": "SRF", ".sr2": "SR2",
    ".pef": "PEF", ".srw": "SRW", ".3fr": "3FR", ".erf": "ERF", ".iiq": "IIQ", ".mos": "MOS", ".mef": "MEF",
    ".kdc": "KDC", ".dcr": "DCR", ".orf": "ORF", ".rw2": "RW2", ".rwl": "RWL",
}  # fmt: skip

# Used when a raw TIFF comes with a misleading or missing extension: IFD0's Make plus a SubIFDs tag.
_MAKER_RAW: tuple[tuple[str, str], ...] = (
    ("NIKON", "NEF"),
    ("SONY", "ARW"),
    ("PENTAX", "PEF"),
    ("RICOH IMAGING", "PEF"),
    ("SAMSUNG", "SRW"),
    ("CANON", "CR2"),
)

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif", ".hif", ".avif",
     ".cr3", ".raf"}
    | set(_TIFF_RAW_EXTENSIONS)
)  # fmt: skip
"""Extensions the scanner picks up; content still decides the format."""

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"heif", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"heif"})
_VIDEO_BRANDS = frozenset({b"isom", b"iso2", b"mp41", b"mp42", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"avc1", b"dash"})

HEAD_BYTES = 64 * 1024
"""How much of a file ``identify`` reads: enough for a TIFF's first IFD and its Make string."""


def is_raw(fmt: str | None) -> bool:
    return fmt in RAW_FORMATS


def _looks_like_text(head: bytes) -> bool:
    sample = head[:4096]
    if not sample or b"\x00" in sample:
        return False
    if sample.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the end of the sample
            return False
    printable = sum(1 for byte in sample if byte >= 0x20 or byte in b"\t\n\r\f")
    return printable / len(sample) > 0.95


def _tiff_ifd0(head: bytes) -> tuple[dict[int, tuple[int, int, bytes]], str]:
    """IFD0 entries {tag: (type, count, 4 value bytes)} and the byte order, from the first bytes of a TIFF."""
    order = "<" if head[:2] == b"II" else ">"
    try:
        (offset,) = struct.unpack(order + "I", head[4:8])
        (count,) = struct.unpack(order + "H", head[offset : offset + 2])
    except struct.error:
        return {}, order
    entries: dict[int, tuple[int, int, bytes]] = {}
    for index in range(min(count, 512)):
        start = offset + 2 + 12 * index
        entry = head[start : start + 12]
        if len(entry) < 12:
            break
        tag, typ, n = struct.unpack(order + "HHI", entry[:8])
        entries[tag] = (typ, n, entry[8:12])
    return entries, order


def _tiff_ascii(head: bytes, entry: tuple[int, int, bytes], order: str) -> str:
    typ, count, value = entry
    if typ != 2:
        return ""
    if count <= 4:
        raw = value[:count]
    else:
        (offset,) = struct.unpack(order + "I", value)
        raw = head[offset : offset + count]
    return raw.split(b"\x00", 1)[0].decode("latin-1", "replace").strip()


def _identify_tiff(head: bytes, ext: str) -> str:
    if head[8:11] == b"CR\x02":
        return "CR2"
    entries, order = _tiff_ifd0(head)
    if 0xC612 in entries:  # DNGVersion
        return "DNG"
    if ext in _TIFF_RAW_EXTENSIONS:
        return _TIFF_RAW_EXTENSIONS[ext]
    if ext in (".tif", ".tiff"):
        return "TIFF"
    if 0x010F in entries and 0x014A in entries:  # Make + SubIFDs: a camera file, not an exported TIFF
        make = _tiff_ascii(head, entries[0x010F], order).upper()
        for prefix, fmt in _MAKER_RAW:
            if make.startswith(prefix):
                return fmt
    return "TIFF"


def _identify_bmff(head: bytes) -> str | None:
    """HEIC, AVIF and CR3 share the ISO base media file format: the ``ftyp`` box names the brands."""
    (box_size,) = struct.unpack(">I", head[0:4])
    major = head[8:12]
    brands = {major}
    end = min(max(box_size, 16), 256, len(head))
    for start in range(16, end - 3, 4):
        brands.add(head[start : start + 4])
    if major == b"crx ":
        return "CR3"
    if major in _AVIF_BRANDS:
        return "AVIF"
    if major in _HEIF_BRANDS - _GENERIC_HEIF_BRANDS:
        return "HEIC"
    if major in _GENERIC_HEIF_BRANDS or brands & (_AVIF_BRANDS | _HEIF_BRANDS):
        # A generic HEIF major brand: the compatible brands say which codec is inside.
        if brands & _AVIF_BRANDS:
            return "AVIF"
        return "HEIC"
    if brands & _VIDEO_BRANDS:
        return "video"
    return None


def sniff(head: bytes, filename: str = "") -> str:
    """The format name for the first bytes of a file (``"unknown"``/``"text"``/... for non-images).

    ``filename`` only breaks ties between TIFF and TIFF-based RAW formats.
    """
    ext = os.path.splitext(filename)[1].lower()
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] in (b"IIRO", b"IIRS", b"MMOR"):
        return "ORF"
    if head[:4] == b"IIU\x00":
        return "RWL" if ext == ".rwl" else "RW2"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return _identify_tiff(head, ext)
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _identify_bmff(head) or "unknown"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith(b"%PDF"):
        return "PDF"
    if head.startswith(b"\xff\x0a") or head.startswith(b"\x00\x00\x00\x0cJXL "):
        return "JXL"
    if head.startswith(b"BM") and len(head) >= 26 and head[6:10] == b"\x00\x00\x00\x00":
        return "BMP"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if _looks_like_text(head):
        return "text"
    return "unknown"


def reason_for(fmt: str) -> str | None:
    """Why a sniffed format cannot be indexed, or None when it can."""
    if fmt in SUPPORTED_FORMATS:
        return None
    if fmt == "text":
        return "not an image (looks like text)"
    if fmt == "video":
        return "not a photo (looks like a video file)"
    if fmt == "zip":
        return "not an image (looks like a ZIP archive)"
    if fmt == "unknown":
        return "not an image (unrecognised content)"
    return f"unsupported format ({fmt})"


def _with_far_ifd0(handle: BinaryIO, head: bytes) -> bytes:
    """A TIFF whose first IFD lies past the head (pixel data first): append that IFD, relocated to offset 8."""
    if head[:4] not in (b"II*\x00", b"MM\x00*"):
        return head
    order = "<" if head[:2] == b"II" else ">"
    (offset,) = struct.unpack(order + "I", head[4:8])
    if offset + 2 <= len(head):
        return head
    handle.seek(offset)
    ifd = handle.read(HEAD_BYTES)
    if len(ifd) < 2:
        return head
    # Value offsets inside it now point to the wrong place (Make may read as junk); inline tags such as
    # DNGVersion, which is all that matters here, stay right.
    return head[:4] + struct.pack(order + "I", 8) + ifd


def identify(path: str | Path, head: bytes | None = None) -> str:
    """The supported format of the file at ``path``; DecodeError with a readable reason otherwise.

    Reads at most ``HEAD_BYTES`` unless ``head`` is given. Never opens anything but a regular file read-only.
    """
    if head is None:
        try:
            with open(path, "rb") as handle:
                head = handle.read(HEAD_BYTES)
                head = _with_far_ifd0(handle, head)
        except OSError as exc:
            raise DecodeError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    if not head:
        raise DecodeError(path, "empty file (0 bytes)")
    fmt = sniff(head, os.fsdecode(path))
    reason = reason_for(fmt)
    if reason is not None:
        raise DecodeError(path, reason)
    return fmt
