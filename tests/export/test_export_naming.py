"""Export file names: template fields, neutralised values, no escape from DEST, collisions never overwrite."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path, PurePosixPath

import pytest

from artimuse_desktop.export.naming import (
    NameAllocator,
    NameFields,
    TemplateError,
    camera_name,
    ensure_inside,
    render_relative,
    validate_template,
)


def fields(**overrides: object) -> NameFields:
    base: dict[str, object] = {
        "original": "IMG_0001",
        "ext": "JPG",
        "captured_at": datetime(2024, 5, 18, 14, 30, 5),
        "camera": "Canon EOS R5",
        "lens": "RF 50mm F1.2",
        "score": 87.34,
        "rank": 7,
        "seq": 3,
        "total": 120,
        "label": "red",
        "rating": 4,
        "flag": 1,
    }
    base.update(overrides)
    return NameFields(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{original}", "IMG_0001"),
        ("{original}.{ext}", "IMG_0001"),  # a trailing .{ext} is dropped: the extension is added for you
        ("{rank}_{original}", "007_IMG_0001"),
        ("{seq}-{score}", "003-87"),
        ("{score:.1f}_{rank:02d}", "87.3_07"),
        ("{date:%Y%m%d}_{original}", "20240518_IMG_0001"),
        ("{date}", "20240518"),
        ("{date:%Y}/{date:%m}/{original}", "2024/05/IMG_0001"),
        ("{camera} {lens}", "Canon EOS R5 RF 50mm F1.2"),
        ("{label}_{rating}_{flag}", "red_4_pick"),
        ("{original}_{ext}", "IMG_0001_JPG"),
    ],
)
def test_template_fields(template: str, expected: str) -> None:
    assert str(render_relative(template, fields())) == expected


def test_missing_values_have_readable_stand_ins() -> None:
    blank = fields(captured_at=None, camera=None, lens=None, score=None, label=None, flag=0, rating=0)
    assert str(render_relative("{date}_{camera}_{score}_{label}{flag}{rating}", blank)) == (
        "undated_unknown camera_unscored_0"
    )


def test_rank_padding_grows_with_the_total() -> None:
    assert str(render_relative("{rank}", fields(rank=5, total=12345))) == "00005"


def test_camera_name_does_not_repeat_the_make() -> None:
    assert camera_name("Canon", "Canon EOS R5") == "Canon EOS R5"
    assert camera_name("NIKON CORPORATION", "NIKON Z 8") == "Nikon Z 8"
    assert camera_name("FUJIFILM", "X-T5") == "FUJIFILM X-T5"
    assert camera_name(None, None) is None


@pytest.mark.parametrize(
    ("overrides", "template"),
    [
        ({"original": ".."}, "{original}"),
        ({"original": "."}, "{original}"),
        ({"original": "../../etc/passwd"}, "{original}"),
        ({"original": "/etc/passwd"}, "{original}"),
        ({"camera": "../../../tmp/evil"}, "{camera}/{original}"),
        ({"camera": "C:\\Windows\\System32"}, "{camera}/{original}"),
        ({"lens": "a/b\\c"}, "{lens}"),
        ({"original": "ok\x00\n\r\x1b[31m\u202egpj.exe"}, "{original}"),
        ({"camera": ".."}, "{camera}/{camera}/{original}"),
    ],
)
def test_field_values_can_never_escape_or_add_folders(overrides: dict[str, str], template: str, tmp_path: Path) -> None:
    relative = render_relative(template, fields(**overrides))
    template_depth = template.count("/") + 1
    assert len(relative.parts) <= template_depth
    for part in relative.parts:
        assert part not in ("", ".", "..")
        assert not part.startswith(".")
        assert "/" not in part and "\\" not in part
        assert all(ch.isprintable() and ch != "\u202e" for ch in part)
    dest = tmp_path / "dest"
    final = ensure_inside(dest, relative)
    assert os.path.commonpath([dest, final]) == str(dest)


@pytest.mark.parametrize(
    "template",
    [
        "/etc/{original}",
        "\\\\server\\share\\{original}",
        "C:\\{original}",
        "~/{original}",
        "../{original}",
        "a/../../{original}",
    ],
)
def test_templates_that_would_leave_dest_are_refused(template: str) -> None:
    with pytest.raises(TemplateError):
        validate_template(template)
    with pytest.raises(TemplateError):
        render_relative(template, fields())


@pytest.mark.parametrize("template", ["{nope}", "{original.__class__}", "{original[0]}", "{original!r}", "", "a\x00b"])
def test_bad_templates_are_refused(template: str) -> None:
    with pytest.raises(TemplateError):
        validate_template(template)


def test_bad_format_spec_is_a_template_error() -> None:
    with pytest.raises(TemplateError):
        render_relative("{rank:%Y}", fields())


def test_long_values_are_cut_to_a_safe_length() -> None:
    relative = render_relative("{camera}", fields(camera="é" * 400))
    assert len(relative.name.encode()) <= 200


def test_windows_reserved_names_are_defused() -> None:
    assert str(render_relative("{original}", fields(original="CON"))) == "_CON"
    assert str(render_relative("{original}", fields(original="name. . "))) == "name"


def test_allocator_never_reuses_a_name_case_insensitively(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "img_0001.jpg").write_bytes(b"already here")
    allocator = NameAllocator(dest)
    first = allocator.allocate(PurePosixPath("IMG_0001"), [".JPG"])
    second = allocator.allocate(PurePosixPath("IMG_0001"), [".JPG", ".xmp"])
    third = allocator.allocate(PurePosixPath("Img_0001"), [".jpg"])
    assert [str(first), str(second), str(third)] == ["IMG_0001 (2)", "IMG_0001 (3)", "Img_0001 (4)"]
    dashed = NameAllocator(dest, "dash").allocate(PurePosixPath("img_0001"), [".jpg"])
    assert str(dashed) == "img_0001-2"


def test_allocator_gives_a_group_one_suffix_that_frees_every_member(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "IMG_0001.xmp").write_bytes(b"someone else's sidecar")
    stem = NameAllocator(dest).allocate(PurePosixPath("IMG_0001"), [".CR2", ".JPG", ".xmp"])
    assert str(stem) == "IMG_0001 (2)"


def test_allocator_refuses_a_symlinked_folder_that_leads_outside(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    outside = tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (dest / "sub").symlink_to(outside, target_is_directory=True)
    with pytest.raises(TemplateError):
        NameAllocator(dest).allocate(PurePosixPath("sub/IMG_0001"), [".jpg"])
