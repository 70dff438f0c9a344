"""XMP written *inside* exported copies, so apps that ignore sidecars for rendered files (Lightroom Classic reads
`.xmp` only for proprietary RAW) still see the rating, label, reject and our scores.

Only our own copies are ever written, never an original: the file must be a regular file with a single link
(a hardlink or symlink export shares the original's bytes and is refused). The change is lossless and checked:

* JPEG: one APP1 segment ``http://ns.adobe.com/xap/1.0/`` placed after the JFIF/Exif segments (an existing XMP
  APP1 is replaced); every other segment and the entropy-coded image data stay byte for byte.
* PNG: one ``iTXt`` chunk ``XML:com.adobe.xmp`` before the first ``IDAT`` (an existing one is replaced); the
  image chunks stay byte for byte.

After writing, the image data of the copy is compared with the original's; any difference removes the change
(the plain copy stays). Other formats keep their sidecar only.
"""

from __future__ import annotations

import os
import secrets
import stat
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

from artimuse_desktop.errors import ExportError

XMP_JPEG_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
XMP_PNG_KEYWORD = b"XML:com.adobe.xmp"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_JPEG_XMP = 65533 - len(XMP_JPEG_HEADER)  # one APP1 segment; extended XMP is not needed for our fields
EMBEDDABLE = frozenset({".jpg", ".jpeg", ".jpe", ".png"})


class EmbedError(ExportError):
    """The XMP could not be put inside a copy; the copy is left as it was (with its sidecar)."""


def xmp_packet(xmp_document: bytes) -> bytes:
    """An XMP packet (``<?xpacket …?>`` wrapper, with padding for in-place edits) around an ``x:xmpmeta`` document."""
    body = xmp_document
    if body.lstrip().startswith(b"<?xml"):
        body = body.split(b"?>", 1)[1].lstrip()
    begin = b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    padding = (b" " * 99 + b"\n") * 20
    return begin + body.rstrip() + b"\n" + padding + b'<?xpacket end="w"?>'


def can_embed(path: Path) -> bool:
    return path.suffix.lower() in EMBEDDABLE


def embed_xmp(copy: Path, original: Path, packet: bytes, *, suffix: str | None = None) -> None:
    """Put ``packet`` inside ``copy`` (an exported copy of ``original``) losslessly, or raise EmbedError.

    ``suffix`` names the format when ``copy`` is still under its temporary name."""
    _check_own_copy(copy, original)
    data = copy.read_bytes()
    suffix = (suffix or copy.suffix).lower()
    if suffix == ".png":
        new = _png_with_xmp(data, packet, copy)
        same = _png_image_chunks(new) == _png_image_chunks(original.read_bytes())
    elif suffix in EMBEDDABLE:
        new = _jpeg_with_xmp(data, packet, copy)
        same = _jpeg_image_data(new) == _jpeg_image_data(original.read_bytes())
    else:
        raise EmbedError(f"{copy}: XMP is not embedded in {suffix or 'extension-less'} files; the sidecar carries it")
    if not same:
        raise EmbedError(f"{copy}: embedding XMP would change the image data; the copy was left as it was")
    _replace(copy, new)


def without_xmp(data: bytes, path: Path) -> bytes:
    """The file's bytes with any XMP packet taken out (to compare two copies of one photo)."""
    if path.suffix.lower() == ".png":
        return b"".join(
            raw
            for kind, raw in _png_chunks(data, path)
            if not (kind == b"iTXt" and raw[8:].startswith(XMP_PNG_KEYWORD + b"\x00"))
        )
    kept = [
        data[start:end]
        for marker, start, end in _jpeg_segments(data, path)
        if not (marker == 0xE1 and data[start + 4 : end].startswith(XMP_JPEG_HEADER))
    ]
    return b"\xff\xd8" + b"".join(kept)


def _check_own_copy(copy: Path, original: Path) -> None:
    info = os.lstat(copy)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
        raise EmbedError(
            f"{copy}: not a copy of its own (a link shares the original's bytes); XMP is never written into it",
            hint="export with --mode copy to embed decisions in the files",
        )
    if os.path.samefile(copy, original):
        raise EmbedError(f"{copy}: is the original; originals are never written")


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        with open(temporary, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise EmbedError(f"{path}: could not write the XMP inside the copy: {exc.strerror or exc}") from exc


# ---------------------------------------------------------------------------------------------------- JPEG


def _jpeg_segments(data: bytes, path: Path) -> Iterator[tuple[int, int, int]]:
    """(marker, start, end) of each segment before the image data; the last one is SOS (its end: file end)."""
    if data[:2] != b"\xff\xd8":
        raise EmbedError(f"{path}: not a JPEG (no SOI marker)")
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise EmbedError(f"{path}: damaged JPEG (no marker at byte {position})")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0xDA:  # start of scan: image data follows to the end
            yield marker, position, len(data)
            return
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise EmbedError(f"{path}: damaged JPEG (segment at byte {position} runs past the end)")
        yield marker, position, end
        position = end
    raise EmbedError(f"{path}: damaged JPEG (no image data)")


def _jpeg_with_xmp(data: bytes, packet: bytes, path: Path) -> bytes:
    if len(packet) > MAX_JPEG_XMP:
        raise EmbedError(f"{path}: the XMP packet ({len(packet):,} bytes) does not fit one JPEG segment")
    segment = b"\xff\xe1" + struct.pack(">H", len(XMP_JPEG_HEADER) + len(packet) + 2) + XMP_JPEG_HEADER + packet
    kept: list[bytes] = []
    inserted = False
    for marker, start, end in _jpeg_segments(data, path):
        body = data[start:end]
        is_xmp = marker == 0xE1 and body[4:].startswith(XMP_JPEG_HEADER)
        if is_xmp:
            continue  # replaced by ours
        if not inserted and marker not in (0xE0, 0xE1):  # after JFIF (APP0) and Exif (APP1), before the rest
            kept.append(segment)
            inserted = True
        kept.append(body)
    return b"\xff\xd8" + b"".join(kept)


def _jpeg_image_data(data: bytes) -> bytes:
    """Everything from the first SOS marker on: the compressed image (what must never change)."""
    index = data.find(b"\xff\xda")
    return data[index:] if index >= 0 else b""


# ---------------------------------------------------------------------------------------------------- PNG


def _png_chunks(data: bytes, path: Path) -> list[tuple[bytes, bytes]]:
    if not data.startswith(PNG_SIGNATURE):
        raise EmbedError(f"{path}: not a PNG")
    chunks: list[tuple[bytes, bytes]] = []
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise EmbedError(f"{path}: damaged PNG (chunk {kind!r} runs past the end)")
        chunks.append((kind, data[position:end]))
        position = end
        if kind == b"IEND":
            break
    return chunks


def _png_with_xmp(data: bytes, packet: bytes, path: Path) -> bytes:
    payload = XMP_PNG_KEYWORD + b"\x00\x00\x00\x00\x00" + packet  # no compression, no language, no translation
    chunk = struct.pack(">I", len(payload)) + b"iTXt" + payload + struct.pack(">I", zlib.crc32(b"iTXt" + payload))
    out = [PNG_SIGNATURE]
    inserted = False
    for kind, raw in _png_chunks(data, path):
        if kind == b"iTXt" and raw[8:].startswith(XMP_PNG_KEYWORD + b"\x00"):
            continue
        if kind == b"IDAT" and not inserted:
            out.append(chunk)
            inserted = True
        out.append(raw)
    return b"".join(out)


def _png_image_chunks(data: bytes) -> list[bytes]:
    return [raw for kind, raw in _png_chunks(data, Path("?")) if kind in (b"IHDR", b"PLTE", b"IDAT", b"IEND")]
