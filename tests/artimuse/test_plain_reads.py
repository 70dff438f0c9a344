"""Tensors read with plain reads (``plain_reads``) are exactly what safetensors reads through its mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")


def test_plain_reads_match_the_mapped_reads(tmp_path: Path) -> None:
    from safetensors import safe_open
    from safetensors.torch import save_file

    from artimuse_desktop.scoring.artimuse.convert.safetensors_io import read_header
    from artimuse_desktop.scoring.artimuse.plain_reads import RowSlices, read_tensor

    generator = torch.Generator().manual_seed(3)
    tensors = {
        "bf16": torch.randn(37, 11, generator=generator).to(torch.bfloat16),
        "int8": torch.randint(-127, 128, (5, 3, 2), generator=generator, dtype=torch.int8),
        "f32": torch.randn(9, generator=generator),
        "f64": torch.randn(4, 4, generator=generator, dtype=torch.float64),
        "scalar": torch.tensor(2.5),
        "empty": torch.empty(0, 6),
    }
    path = tmp_path / "t.safetensors"
    save_file(tensors, str(path))
    refs = read_header(path)
    with safe_open(str(path), framework="pt") as handle:
        for name in tensors:
            assert torch.equal(read_tensor(refs[name]), handle.get_tensor(name)), name
        rows = RowSlices(refs["bf16"])
        assert rows.get_shape() == [37, 11]
        for start, stop in ((0, 8), (8, 37), (30, 99), (36, 37), (5, 5)):
            assert torch.equal(rows[start:stop], handle.get_slice("bf16")[start:stop]), (start, stop)
    assert torch.equal(RowSlices(refs["int8"])[:], tensors["int8"])
    with pytest.raises(TypeError):
        RowSlices(refs["bf16"])[0:10:2]


def test_a_short_file_is_named(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    from artimuse_desktop.scoring.artimuse.convert.safetensors_io import read_header
    from artimuse_desktop.scoring.artimuse.plain_reads import read_tensor

    path = tmp_path / "t.safetensors"
    save_file({"w": torch.ones(64, 64)}, str(path))
    ref = read_header(path)["w"]
    with path.open("r+b") as handle:
        handle.truncate(ref.start + 100)
    with pytest.raises(OSError, match="shorter than its header"):
        read_tensor(ref)
