"""Sidecars are untrusted input: FIFOs, endless devices, hostile XML and impossible values each give one
warning naming the file and the reason, and the run goes on with every other sidecar imported."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from artimuse_desktop import cli
from artimuse_desktop.catalog import Catalog, queries
from artimuse_desktop.catalog.filters import SortSpec
from artimuse_desktop.library.indexer import index_roots
from artimuse_desktop.library.sidecars import MAX_SIDECAR_BYTES, SidecarError, read_sidecar
from tests.factory import write_jpeg
from tests.library.hostile_xmp import HOSTILE, sidecar, write_hostile

REPO = Path(__file__).resolve().parents[2]


def ratings(catalog: Catalog) -> dict[str, tuple[int, str | None]]:
    with catalog.read() as session:
        return {p.filename: (p.rating, p.color_label) for p in queries.query_photos(session, sort=SortSpec("id"))}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_each_hostile_sidecar_is_refused_with_its_reason(tmp_path: Path, case: str) -> None:
    path = write_hostile(tmp_path, "IMG_0001", case)
    with pytest.raises(SidecarError) as info:
        read_sidecar(path)
    assert info.value.path == path and HOSTILE[case][1] in info.value.reason
    assert str(path) in info.value.message


def test_index_goes_on_past_every_hostile_sidecar(catalog: Catalog, tmp_path: Path) -> None:
    library = tmp_path / "shoot"
    write_jpeg(library / "good.jpg", 1)
    (library / "good.xmp").write_text(sidecar(rating="4"))
    for seed, case in enumerate(sorted(HOSTILE), start=2):
        write_jpeg(library / f"{case}.jpg", seed)
        write_hostile(library, case, case)
    # A photo with a hostile sidecar of its own and a good shared one: the good one still counts.
    write_jpeg(library / "mixed.CR2.jpg", 99)
    (library / "mixed.CR2.jpg.xmp").write_bytes(HOSTILE["billion-laughs"][0])
    (library / "mixed.CR2.xmp").write_text(sidecar(rating="2", label="Blue"))

    summary = index_roots(catalog, [library], thumbnails=False)

    assert summary.new == len(HOSTILE) + 2 and summary.failed == 0
    problems = {Path(path).name: reason for path, reason in summary.sidecar_problems}
    assert len(summary.sidecar_problems) == len(problems) == len(HOSTILE) + 1  # one warning per bad file
    for case, (_data, fragment) in HOSTILE.items():
        assert fragment in problems[f"{case}.xmp"], case
    assert "DOCTYPE" in problems["mixed.CR2.jpg.xmp"]
    found = ratings(catalog)
    assert found["good.jpg"] == (4, "green")
    assert found["mixed.CR2.jpg"] == (2, "blue")
    assert all(found[f"{case}.jpg"] == (0, None) for case in HOSTILE)
    assert summary.sidecar_decisions == 2


@pytest.mark.timeout(60)
def test_a_fifo_sidecar_never_blocks_index_or_xmp_read(
    catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "shoot"
    write_jpeg(library / "IMG_0001.jpg", 1)
    write_jpeg(library / "IMG_0002.jpg", 2)
    os.mkfifo(library / "IMG_0001.xmp")  # nobody ever writes to it: opening it for reading would block
    (library / "IMG_0002.xmp").write_text(sidecar(rating="5"))

    summary = index_roots(catalog, [library], thumbnails=False)

    assert summary.new == 2
    assert [(Path(p).name, r) for p, r in summary.sidecar_problems] == [
        ("IMG_0001.xmp", "it is a FIFO (named pipe), not a regular file; not read")
    ]
    assert ratings(catalog) == {"IMG_0001.jpg": (0, None), "IMG_0002.jpg": (5, "green")}
    capsys.readouterr()
    assert cli.main(["--catalog", str(catalog.path), "xmp", "read"]) == 1
    out, err = capsys.readouterr()
    assert "1 sidecars could not be read" in out
    assert err.count("IMG_0001.xmp") == 1 and "FIFO" in err


def test_an_oversized_sidecar_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "IMG_0001.xmp"
    with path.open("wb") as handle:  # sparse: no disk used
        handle.truncate(MAX_SIDECAR_BYTES + 1)
    with pytest.raises(SidecarError, match="too large for a sidecar"):
        read_sidecar(path)


def _limit_memory() -> None:
    limit = 1_500_000_000  # 1.5 GB of address space: /dev/zero read into memory would hit it at once
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_sidecar_linked_to_an_endless_device_under_a_memory_limit(tmp_path: Path, device: str) -> None:
    library = tmp_path / "shoot"
    write_jpeg(library / "IMG_0001.jpg", 1)
    write_jpeg(library / "IMG_0002.jpg", 2)
    (library / "IMG_0001.xmp").symlink_to(device)
    (library / "IMG_0002.xmp").write_text(sidecar(rating="4"))
    path = tmp_path / "catalog.sqlite"
    command = [sys.executable, "-m", "artimuse_desktop", "--catalog", str(path), "index", "-q", "--no-previews"]
    result = subprocess.run(
        [*command, str(library)],
        capture_output=True,
        text=True,
        timeout=110,
        cwd=REPO,
        preexec_fn=_limit_memory,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.count("IMG_0001.xmp") == 1
    assert "it is a device, not a regular file; not read" in result.stdout
    with Catalog(path) as opened:
        assert ratings(opened) == {"IMG_0001.jpg": (0, None), "IMG_0002.jpg": (4, "green")}
    assert (library / "IMG_0001.xmp").is_symlink() and os.readlink(library / "IMG_0001.xmp") == device


def test_xmp_read_reports_each_hostile_sidecar_once_and_imports_the_rest(
    catalog: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "shoot"
    write_jpeg(library / "good.jpg", 1)
    for seed, case in enumerate(sorted(HOSTILE), start=2):
        write_jpeg(library / f"{case}.jpg", seed)
    index_roots(catalog, [library], thumbnails=False)  # no sidecars yet
    (library / "good.xmp").write_text(sidecar(rating="4", label="Red"))
    before = {}
    for case in HOSTILE:
        before[case] = write_hostile(library, case, case).read_bytes()
    capsys.readouterr()

    assert cli.main(["--catalog", str(catalog.path), "xmp", "read"]) == 1

    out, err = capsys.readouterr()
    assert "took decisions from sidecars for 1 photos" in out and f"{len(HOSTILE)} sidecars could not be read" in out
    assert "Traceback" not in err
    for case, (_data, fragment) in HOSTILE.items():
        assert err.count(f"{case}.xmp:") == 1 and fragment in err, case
        assert (library / f"{case}.xmp").read_bytes() == before[case]
    assert ratings(catalog)["good.jpg"] == (4, "red")
