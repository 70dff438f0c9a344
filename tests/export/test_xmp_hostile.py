"""``xmp write`` merging into hostile sidecars: each is refused, left byte-for-byte untouched and reported once;
the other photos' sidecars are still written. Values we own (a ``1e999`` rating) are simply replaced."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from artimuse_desktop import cli
from artimuse_desktop.catalog import Catalog
from artimuse_desktop.culling.decisions import set_decision
from artimuse_desktop.export.xmp import SidecarData, SidecarError, write_sidecar
from artimuse_desktop.library.sidecars import SidecarDecisions, read_sidecar
from tests.factory import add_photo, write_jpeg
from tests.library.hostile_xmp import HOSTILE

#: Hostile in their XML: never merged into. The other cases are bad values in fields we own and replace.
REFUSED = {
    "encoding-x-evil-42",
    "billion-laughs",
    "external-entity",
    "doctype-after-4kb",
    "utf16-entities",
    "nested-10000",
}
OLD_NS = 1_000_000_000_000_000_000
DATA = SidecarData(rating=4, flag=1, label="red", score=81.5, model="artimuse")


def _plant(photo: Path, content: bytes) -> Path:
    path = photo.with_suffix(".xmp")
    path.write_bytes(content)
    os.utime(path, ns=(OLD_NS, OLD_NS))
    return path


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_hostile_sidecar_is_never_merged_into(tmp_path: Path, case: str) -> None:
    photo = write_jpeg(tmp_path / "IMG_0001.jpg", 1)
    content, fragment = HOSTILE[case]
    path = _plant(photo, content)
    with pytest.raises(SidecarError) as info:
        write_sidecar(photo, DATA)
    assert info.value.path == path and fragment in info.value.reason
    assert path.read_bytes() == content and path.stat().st_mtime_ns == OLD_NS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["IMG_0001.jpg", "IMG_0001.xmp"]  # no temporary left


@pytest.mark.parametrize("case", sorted(set(HOSTILE) - REFUSED))
def test_a_bad_value_in_a_field_we_own_is_replaced(tmp_path: Path, case: str) -> None:
    photo = write_jpeg(tmp_path / "IMG_0001.jpg", 1)
    path = _plant(photo, HOSTILE[case][0])
    assert write_sidecar(photo, DATA) == path
    assert read_sidecar(path) == SidecarDecisions(4, 1, "red")


@pytest.mark.timeout(60)
def test_a_fifo_or_device_sidecar_is_refused_without_opening_it(tmp_path: Path) -> None:
    fifo_photo = write_jpeg(tmp_path / "IMG_0001.jpg", 1)
    os.mkfifo(fifo_photo.with_suffix(".xmp"))
    zero_photo = write_jpeg(tmp_path / "IMG_0002.jpg", 2)
    zero_photo.with_suffix(".xmp").symlink_to("/dev/zero")
    with pytest.raises(SidecarError, match="FIFO"):
        write_sidecar(fifo_photo, DATA)
    with pytest.raises(SidecarError, match="a device"):
        write_sidecar(zero_photo, DATA)
    assert os.readlink(zero_photo.with_suffix(".xmp")) == "/dev/zero"


@pytest.mark.timeout(60)
def test_xmp_write_reports_each_refusal_once_and_writes_the_rest(
    catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shoot = tmp_path / "shoot"
    good = write_jpeg(shoot / "good.jpg", 1)
    ids = [add_photo(catalog, good)]
    planted: dict[str, bytes] = {}
    for seed, case in enumerate(sorted(REFUSED), start=2):
        photo = write_jpeg(shoot / f"{case}.jpg", seed)
        ids.append(add_photo(catalog, photo))
        planted[case] = _plant(photo, HOSTILE[case][0]).read_bytes()
    fifo = write_jpeg(shoot / "fifo.jpg", 50)
    ids.append(add_photo(catalog, fifo))
    os.mkfifo(shoot / "fifo.xmp")
    set_decision(catalog, ids, "rating", 2)
    capsys.readouterr()

    assert cli.main(["--catalog", str(catalog.path), "xmp", "write"]) == 1

    out, err = capsys.readouterr()
    assert f"wrote 1 sidecar (lightroom style); {len(REFUSED) + 1} failed" in out
    assert "Traceback" not in err
    for case, content in planted.items():
        assert err.count(f"{case}.xmp:") == 1 and HOSTILE[case][1] in err, case
        assert (shoot / f"{case}.xmp").read_bytes() == content
    assert err.count("fifo.xmp:") == 1 and "left untouched" in err
    assert read_sidecar(shoot / "good.xmp") == SidecarDecisions(2, None, None)  # only the rating was decided
