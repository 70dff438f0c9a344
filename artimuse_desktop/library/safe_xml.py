"""Reading XML that arrives from outside (XMP sidecars): regular files only, a size cap, a hardened parser.

A sidecar is whatever sits beside a photo, written by any program or by someone hostile, so every guard here
answers a real failure: a FIFO blocks ``open``/``read`` forever; a symlink to ``/dev/zero`` never ends; entity
expansion (billion laughs) and external entities are the classic XML attacks, wherever the DOCTYPE sits and in
whatever encoding; an unknown declared encoding makes expat ask Python for a codec by that name; and very
deep nesting overflows the recursive DOM code (minidom) that merges sidecars. Every refusal is a
``RefusedXml`` carrying a one-line reason; callers add the file name.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from typing import TYPE_CHECKING, Any

from artimuse_desktop.errors import ArtiMuseError

if TYPE_CHECKING:  # the parser loads with the first XML to parse: most photos have none (~30 ms saved)
    import xml.etree.ElementTree as ET

MAX_DEPTH = 100  # Lightroom's deepest structures (mask groups) nest about 20 levels
MAX_ELEMENTS = 200_000  # darktable histories have thousands, not hundreds of thousands
#: Encodings expat decodes itself; XMP allows only UTF-8/16/32 and expat has no UTF-32.
ALLOWED_ENCODINGS = frozenset(
    {"utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}
)
_CHUNK = 1 << 20
_DECLARATION = re.compile(r"""<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']{0,64})["']""")


class RefusedXml(ArtiMuseError):
    """A file we will not read or parse; ``reason`` says why in words a user can act on (no file name:
    the caller knows which file it was and says so)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, hint="fix or remove the file; it was left untouched")
        self.reason = reason


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _mib(count: int) -> str:
    return f"{count / (1024 * 1024):.0f} MiB"


def read_regular_file(path: str | os.PathLike[str], limit: int) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file of at most ``limit`` bytes, and its ``fstat``; anything else is refused.

    ``stat`` first, so a FIFO or device is never opened; then ``O_NONBLOCK`` and ``fstat`` on the open file,
    so one swapped in meanwhile cannot block or stream either; at most ``limit + 1`` bytes are ever read.
    """
    try:
        before = os.stat(path)
    except OSError as exc:
        raise RefusedXml(f"cannot read it: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(before.st_mode):
        raise RefusedXml(f"it is {_kind(before.st_mode)}, not a regular file; not read")
    if before.st_size > limit:
        raise RefusedXml(f"too large for a sidecar ({before.st_size} bytes, the limit is {_mib(limit)})")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise RefusedXml(f"cannot read it: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RefusedXml(f"it is {_kind(info.st_mode)}, not a regular file; not read")
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, _CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise RefusedXml(f"cannot read it: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise RefusedXml(f"too large for a sidecar (over {_mib(limit)}; it grew while being read)")
    return data, info


def declared_encoding(data: bytes) -> str | None:
    """The encoding named in the XML declaration, lower case (UTF-16 declarations read as UTF-16)."""
    head = data[:1024]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", "ignore")
    elif head.startswith(b"<\x00"):
        text = head.decode("utf-16-le", "ignore")
    elif head.startswith(b"\x00<"):
        text = head.decode("utf-16-be", "ignore")
    else:
        text = head.removeprefix(b"\xef\xbb\xbf").decode("latin-1")
    match = _DECLARATION.match(text)
    return match.group(1).strip().lower() if match else None


@functools.cache
def _bounded_builder() -> type:
    """A tree builder class that stops at ``MAX_DEPTH`` levels and ``MAX_ELEMENTS`` elements."""
    import xml.etree.ElementTree as ET

    class BoundedBuilder(ET.TreeBuilder):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0
            self.count = 0

        def start(self, tag: Any, attrs: Any) -> ET.Element:
            self.depth += 1
            self.count += 1
            if self.depth > MAX_DEPTH:
                raise RefusedXml(f"nested deeper than {MAX_DEPTH} levels, which no XMP writer does")
            if self.count > MAX_ELEMENTS:
                raise RefusedXml(f"more than {MAX_ELEMENTS} elements, which no XMP writer makes")
            return super().start(tag, attrs)

        def end(self, tag: Any) -> ET.Element:
            self.depth -= 1
            return super().end(tag)

    return BoundedBuilder


def parse_untrusted(data: bytes) -> ET.Element:
    """Parse with defusedxml, refusing any DOCTYPE, entity or external reference, unknown encodings, and
    documents deeper or larger than an XMP packet ever is. Raises ``RefusedXml``."""
    import xml.etree.ElementTree as ET

    from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
    from defusedxml.ElementTree import DefusedXMLParser

    encoding = declared_encoding(data)
    if encoding is not None and encoding not in ALLOWED_ENCODINGS:
        shown = encoding if encoding.isprintable() else ascii(encoding)
        raise RefusedXml(f"declares the encoding {shown!r}; XMP is UTF-8 or UTF-16")
    parser = DefusedXMLParser(target=_bounded_builder()(), forbid_dtd=True)
    try:
        parser.feed(data)
        root: ET.Element = parser.close()
    except RefusedXml:
        raise
    except DTDForbidden as exc:
        raise RefusedXml("contains a DOCTYPE (how entity and external-file attacks come in); XMP has none") from exc
    except EntitiesForbidden as exc:
        raise RefusedXml("declares entities, which XMP never uses") from exc
    except ExternalReferenceForbidden as exc:
        raise RefusedXml("refers to an external resource, which XMP never does") from exc
    except DefusedXmlException as exc:
        raise RefusedXml(f"uses an XML feature XMP never uses ({type(exc).__name__})") from exc
    except ET.ParseError as exc:
        raise RefusedXml(f"not well-formed XML ({exc})") from exc
    except (LookupError, ValueError, UnicodeError) as exc:  # encodings expat cannot take
        raise RefusedXml(f"cannot be decoded ({exc})") from exc
    except RecursionError as exc:
        raise RefusedXml("nested too deeply to read") from exc
    return root
