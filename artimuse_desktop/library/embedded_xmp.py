"""Ratings, flags and labels other apps wrote inside the photo file itself: its XMP packet and EXIF Rating.

digiKam, Photo Mechanic, Lightroom (for JPEG/TIFF/PNG/HEIC) and Windows write decisions into the file rather
than into a sidecar. Pillow hands the packet over as ``info["xmp"]`` for JPEG (the APP1 segment
``http://ns.adobe.com/xap/1.0/``), PNG (the ``XML:com.adobe.xmp`` iTXt chunk before the image data), WebP (the
``XMP `` chunk) and AVIF; pillow-heif does the same for HEIC; Pillow's TIFF directory reader gives tag 700
(XMLPacket) of TIFF and of the TIFF-based RAWs such as DNG. Only headers are read: no pixel is decoded here.
A PNG packet after the image data (rare: writers put it first) is not seen without a full decode, so not read.

The packet is as untrusted as any sidecar: it is parsed with the same hardened parser and every value is
checked the same way (``sidecars.decisions_from_bytes``), so a DOCTYPE, an entity or a 5,000-digit rating
in a file is one warning naming the photo, nothing of that packet is used, and the photo still indexes. The
EXIF Rating tag (``metadata``) fills in a rating the packet does not give.

What is read here is the weakest source: a sidecar's value replaces it and neither replaces a decision made
in the app (``sidecar_import``).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from artimuse_desktop.imaging import formats
from artimuse_desktop.library.sidecars import MAX_SIDECAR_BYTES, SidecarDecisions, SidecarError, decisions_from_bytes

log = logging.getLogger(__name__)

#: The largest packet parsed. One JPEG segment holds 64 KiB; a packet in a TIFF may hold an edit history.
MAX_PACKET_BYTES = MAX_SIDECAR_BYTES
#: RAW formats that are TIFF files underneath, whose IFD0 may carry tag 700 (Pillow reads it as a TIFF).
_TIFF_BASED_RAWS = frozenset({"DNG", "CR2", "NEF", "NRW", "ARW", "SRF", "SR2", "PEF", "SRW", "3FR", "ERF", "IIQ"})


@dataclass(frozen=True)
class FileDecisions:
    """What the file itself says, and why its packet was not used (None: it was, or there was none)."""

    decisions: SidecarDecisions
    problem: str | None = None


def _as_bytes(value: Any) -> bytes | None:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):  # PNG iTXt comes as text
        return value.encode("utf-8")
    if isinstance(value, tuple | list) and all(isinstance(part, int) for part in value):
        return bytes(value)  # a TIFF tag read as a tuple of BYTEs
    return None


class PacketTooLarge(Exception):
    """The file's metadata directory asks for more bytes than any packet needs (``read_packet``)."""


class _Budgeted:
    """A file reader that refuses to hand out more than ``budget`` bytes in all: a hostile RAW declaring a
    2 GB tag 700 costs one refusal, not 2 GB of memory."""

    def __init__(self, source: BinaryIO, budget: int) -> None:
        self.source, self.left = source, budget

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self.left:
            raise PacketTooLarge
        self.left -= size
        return self.source.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.source.seek(offset, whence)

    def tell(self) -> int:
        return self.source.tell()


def _tiff_packet(source: BinaryIO) -> Any:
    """Tag 700 of IFD0, read by Pillow's IFD reader alone: DNG and the other TIFF-based RAWs have pixel layouts
    (CFA mosaics) that ``Image.open`` refuses after reading the very IFD that holds the packet."""
    from PIL import TiffImagePlugin

    header = source.read(8)
    if header[2:3] == b"\x2b" or header[3:4] == b"\x2b":  # BigTIFF: a 16-byte header
        header += source.read(8)
    ifd = TiffImagePlugin.ImageFileDirectory_v2(header)
    source.seek(ifd.next)
    ifd.load(cast(IO[bytes], _Budgeted(source, 2 * MAX_PACKET_BYTES)))  # it needs read, seek and tell only
    return ifd.get(700)


def _pillow_packet(source: BinaryIO, fmt: str) -> Any:
    from PIL import Image

    if fmt == "HEIC":
        from artimuse_desktop.imaging.raster_decode import ensure_heif_opener

        ensure_heif_opener()
    with Image.open(source, formats=[formats.PILLOW_FORMATS[fmt]]) as im:
        return im.info.get("xmp")


def read_packet(path: str | Path, data: bytes | None, fmt: str) -> bytes | None:
    """The file's XMP packet as Pillow (or pillow-heif) reads it from the headers; None when it has none.
    Raises PacketTooLarge for a TIFF directory over twice ``MAX_PACKET_BYTES``.

    Files Pillow cannot parse (RAWs that are not TIFF files, damaged headers) have none as far as we know: the
    decoder reports what is wrong with them."""
    tiff = fmt == "TIFF" or fmt in _TIFF_BASED_RAWS
    if not tiff and fmt not in formats.PILLOW_FORMATS:
        return None
    try:
        source: BinaryIO = io.BytesIO(data) if data is not None else open(path, "rb")  # noqa: SIM115
    except OSError:
        return None
    try:
        return _as_bytes(_tiff_packet(source) if tiff else _pillow_packet(source, fmt))
    except PacketTooLarge:
        raise
    except Exception:  # Pillow raises many kinds for headers it cannot parse; the decode says what is wrong
        log.debug("no XMP read from %s", path, exc_info=True)
        return None
    finally:
        source.close()


def _clean(packet: bytes) -> bytes:
    """The packet without the NUL and whitespace padding writers leave around it."""
    return packet.strip(b"\x00 \t\r\n")


def decisions_from_packet(packet: bytes, path: str | Path) -> FileDecisions:
    """The decisions in one embedded packet, checked as a sidecar's are; a refused packet gives a problem."""
    packet = _clean(packet)
    if not packet:
        return FileDecisions(SidecarDecisions())
    if len(packet) > MAX_PACKET_BYTES:
        reason = f"too large ({len(packet)} bytes, the limit is {_mib(MAX_PACKET_BYTES)})"
        return FileDecisions(SidecarDecisions(), _problem(reason))
    try:
        return FileDecisions(decisions_from_bytes(packet, Path(path)))
    except SidecarError as exc:
        return FileDecisions(SidecarDecisions(), _problem(exc.reason))


def _mib(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB"


def _problem(reason: str) -> str:
    return f"XMP packet refused: {reason}"


def read_file_decisions(
    path: str | Path, data: bytes | None, fmt: str, *, exif_rating: int | None = None
) -> FileDecisions:
    """Rating, flag and label from the file's XMP packet; the EXIF Rating fills in a missing rating. Never raises."""
    try:
        packet = read_packet(path, data, fmt)
    except PacketTooLarge:
        found = FileDecisions(SidecarDecisions(), _problem(f"is in a TIFF directory over {_mib(2 * MAX_PACKET_BYTES)}"))
    else:
        found = decisions_from_packet(packet, path) if packet is not None else FileDecisions(SidecarDecisions())
    decisions = found.decisions
    if decisions.rating is None and exif_rating is not None:
        decisions = SidecarDecisions(rating=exif_rating, flag=decisions.flag, label=decisions.label)
    if found.problem:
        log.info("%s: %s", path, found.problem)
    return FileDecisions(decisions, found.problem)
