"""Real hostile XMP sidecars, as files an attacker (or a broken app) could leave beside a photo.

Each case is the file's bytes and a fragment the one reported reason must contain. Shared by the indexing
tests (tests/library) and the ``xmp read``/``xmp write`` tests (tests/export).
"""

from __future__ import annotations

from pathlib import Path

NS = (
    'xmlns:x="adobe:ns:meta/" xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:darktable="http://darktable.sf.net/" '
    'xmlns:digiKam="http://www.digikam.org/ns/1.0/" xmlns:artimuse="https://artimuse.app/ns/1.0/"'
)


def sidecar(rating: str = "3", label: str = "Green", attributes: str = "", body: str = "") -> str:
    """A Lightroom-style sidecar with ``xmp:Rating`` and ``xmp:Label`` (and anything added)."""
    return (
        f'<x:xmpmeta {NS}><rdf:RDF><rdf:Description rdf:about="" xmp:Rating="{rating}" '
        f'xmp:Label="{label}" {attributes}>{body}</rdf:Description></rdf:RDF></x:xmpmeta>\n'
    )


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE x:xmpmeta [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    + "]>\n"
    + sidecar(label="&lol9;")
)
EXTERNAL_ENTITY = '<?xml version="1.0"?>\n<!DOCTYPE x:xmpmeta [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n' + sidecar(
    label="&xxe;"
)
#: The old check looked for a DOCTYPE in the first 4 KB only: this one comes after a 5 KB comment.
DOCTYPE_AFTER_4KB = (
    '<?xml version="1.0"?>\n<!--'
    + "x" * 5000
    + '-->\n<!DOCTYPE x:xmpmeta SYSTEM "http://attacker.invalid/x.dtd">\n'
    + sidecar()
)
#: The old check searched the raw bytes for ``<!ENTITY``, which UTF-16 spells with NULs in between.
UTF16_ENTITIES = (
    '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE x:xmpmeta [<!ENTITY g "Green">]>\n' + sidecar(label="&g;")
).encode("utf-16")
DEEP = sidecar(body="<deep>" * 10_000 + "</deep>" * 10_000)

HOSTILE: dict[str, tuple[bytes, str]] = {
    "rating-1e999": (sidecar(rating="1e999").encode(), 'xmp:Rating is "1e999", not a whole number'),
    "rating-minus-1e999": (sidecar(rating="-1e999").encode(), 'xmp:Rating is "-1e999"'),
    "rating-5000-digits": (sidecar(rating="7" * 5000).encode(), "(5000 characters)"),
    "rating-7": (sidecar(rating="7").encode(), "from -1 to 5"),
    "encoding-x-evil-42": (
        b'<?xml version="1.0" encoding="x-evil-42"?>\n' + sidecar().encode(),
        "declares the encoding 'x-evil-42'",
    ),
    "billion-laughs": (BILLION_LAUGHS.encode(), "DOCTYPE"),
    "external-entity": (EXTERNAL_ENTITY.encode(), "DOCTYPE"),
    "doctype-after-4kb": (DOCTYPE_AFTER_4KB.encode(), "DOCTYPE"),
    "utf16-entities": (UTF16_ENTITIES, "DOCTYPE"),
    "nested-10000": (DEEP.encode(), "nested deeper than 100 levels"),
    "digikam-label-99": (sidecar(attributes='digiKam:ColorLabel="99"').encode(), 'digiKam:ColorLabel is "99"'),
    "darktable-label-7": (
        sidecar(body="<darktable:colorlabels><rdf:Seq><rdf:li>7</rdf:li></rdf:Seq></darktable:colorlabels>").encode(),
        'darktable:colorlabels is "7"',
    ),
    "artimuse-flag": (sidecar(attributes='artimuse:Flag="maybe"').encode(), 'artimuse:Flag is "maybe"'),
}


def write_hostile(folder: Path, stem: str, case: str) -> Path:
    """``folder/stem.xmp`` holding the hostile ``case``."""
    path = folder / f"{stem}.xmp"
    path.write_bytes(HOSTILE[case][0])
    return path
