"""Desktop integration files: the .desktop entry, the AppStream metainfo and the icons.

The validators are Debian's desktop-file-validate (desktop-file-utils) and appstreamcli (appstream); a test
that needs one is skipped, with the package to install, only where it is missing.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse

import pytest
from PIL import Image

from artimuse_desktop import __version__
from artimuse_desktop.imaging.formats import IMAGE_EXTENSIONS

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "app.artimuse.Desktop"
DESKTOP_FILE = ROOT / "resources" / "linux" / f"{APP_ID}.desktop"
METAINFO_FILE = ROOT / "resources" / "linux" / f"{APP_ID}.metainfo.xml"
ICONS = ROOT / "resources" / "icons"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
MIME_DIR = Path("/usr/share/mime")

# What "Open with" must offer the app for (the formats the scanner picks up).
REQUIRED_MIME_TYPES = {
    "image/jpeg", "image/png", "image/tiff", "image/webp", "image/heic", "image/heif", "image/avif",
    "image/x-canon-cr2", "image/x-canon-cr3", "image/x-nikon-nef", "image/x-sony-arw", "image/x-adobe-dng",
    "image/x-fuji-raf", "image/x-olympus-orf", "image/x-panasonic-rw2", "image/x-pentax-pef",
    "image/x-samsung-srw",
}  # fmt: skip


def tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian package {package})")
    return path


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP_FILE, encoding="utf-8")
    return parser["Desktop Entry"]


def desktop_list(key: str) -> list[str]:
    return [item for item in desktop_entry()[key].split(";") if item]


def metainfo() -> ET.Element:
    return ET.parse(METAINFO_FILE).getroot()


# --------------------------------------------------------------------------- the .desktop entry


def test_desktop_entry_validates() -> None:
    validator = tool("desktop-file-validate", "desktop-file-utils")
    result = subprocess.run([validator, str(DESKTOP_FILE)], capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"\b(error|warning):", output), output


def test_desktop_entry_launches_the_command_with_files() -> None:
    entry = desktop_entry()
    assert DESKTOP_FILE.name == f"{APP_ID}.desktop"  # the desktop id the metainfo and Wayland app id use
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "artimuse-desktop gui %F"
    assert entry["TryExec"] == "artimuse-desktop"
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    assert {"Graphics", "Photography"} <= set(desktop_list("Categories"))


def test_the_command_in_exec_is_the_installed_script() -> None:
    """Exec names the console script pyproject installs (and the .deb links into /usr/bin)."""
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert desktop_entry()["Exec"].split()[0] in scripts


def test_gui_command_accepts_several_files(tmp_path: Path) -> None:
    """Exec=... %F passes every file selected in the file manager."""
    from artimuse_desktop.cli import build_parser

    first, second = tmp_path / "a.jpg", tmp_path / "b.jpg"
    args = build_parser().parse_args(["gui", str(first), str(second)])
    assert args.command == "gui"


def test_desktop_entry_lists_the_photo_mime_types() -> None:
    declared = set(desktop_list("MimeType"))
    assert declared >= REQUIRED_MIME_TYPES, sorted(REQUIRED_MIME_TYPES - declared)
    assert all(re.fullmatch(r"image/[a-z0-9.+-]+", mime) for mime in declared), sorted(declared)


@pytest.mark.skipif(not (MIME_DIR / "globs2").is_file(), reason="no shared-mime-info database (shared-mime-info)")
def test_every_extension_the_scanner_reads_opens_with_the_app() -> None:
    """For each extension the scanner picks up, the MIME type the desktop assigns to it is in MimeType.

    Extensions shared-mime-info knows no type for (some rare RAWs) cannot be matched and are not checked.
    """
    globs: dict[str, set[str]] = {}
    for line in (MIME_DIR / "globs2").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            _weight, mime, pattern = line.split(":")[:3]
            globs.setdefault(pattern.lower(), set()).add(mime)
    aliases = dict(
        line.split() for line in (MIME_DIR / "aliases").read_text(encoding="utf-8").splitlines() if line.strip()
    )
    declared = {aliases.get(mime, mime) for mime in desktop_list("MimeType")}
    missing = {
        ext: sorted(globs[f"*{ext}"])
        for ext in sorted(IMAGE_EXTENSIONS)
        if f"*{ext}" in globs and not {aliases.get(m, m) for m in globs[f"*{ext}"]} & declared
    }
    assert not missing, f"extensions whose MIME type is not in the .desktop MimeType: {missing}"


# --------------------------------------------------------------------------- AppStream metainfo


def test_metainfo_validates_offline() -> None:
    appstreamcli = tool("appstreamcli", "appstream")
    result = subprocess.run(
        [appstreamcli, "validate", "--no-net", "--no-color", str(METAINFO_FILE)],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not re.search(r"^\s*[EW]:", output, re.MULTILINE), output


def test_metainfo_agrees_with_the_desktop_entry_and_the_app() -> None:
    root = metainfo()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert METAINFO_FILE.name == f"{APP_ID}.metainfo.xml"
    assert root.findtext("launchable[@type='desktop-id']") == DESKTOP_FILE.name
    assert root.findtext("name") == desktop_entry()["Name"]
    assert root.findtext("provides/binary") == "artimuse-desktop"
    mediatypes = {element.text or "" for element in root.iterfind("provides/mediatype")}
    assert mediatypes <= set(desktop_list("MimeType")), sorted(mediatypes - set(desktop_list("MimeType")))
    releases = root.findall("releases/release")
    assert releases and releases[0].get("version") == __version__, "the newest <release> is the app's version"
    assert root.findtext("project_license") == "MIT"


def test_metainfo_screenshots_are_the_readme_ones() -> None:
    """Every screenshot is an https URL to a file in docs/ that the repository has."""
    images = [element.text or "" for element in metainfo().iterfind("screenshots/screenshot/image")]
    assert len(images) >= 3
    names = []
    for url in images:
        parsed = urlparse(url)
        assert parsed.scheme == "https" and parsed.netloc, url
        assert "/docs/" in parsed.path, url
        names.append("docs/" + parsed.path.split("/docs/", 1)[1])
    assert {"docs/screenshot-grid.png", "docs/screenshot-loupe.png", "docs/screenshot-compare.png"} <= set(names)
    missing = [name for name in names if not (ROOT / name).is_file()]
    assert not missing, f"screenshots referenced by the metainfo but not in the repository: {missing}"
    assert metainfo().find("screenshots/screenshot[@type='default']") is not None


# --------------------------------------------------------------------------- icons


def test_icon_svg_is_square_and_parses() -> None:
    svg = ET.parse(ICONS / f"{APP_ID}.svg").getroot()
    assert svg.tag.endswith("svg")
    viewbox = [float(value) for value in (svg.get("viewBox") or "").split()]
    assert len(viewbox) == 4 and viewbox[2] == viewbox[3]


@pytest.mark.parametrize("size", ICON_SIZES)
def test_icon_png_sizes(size: int) -> None:
    path = ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (size, size)
        assert image.mode == "RGBA"
        assert image.getchannel("A").getpixel((0, 0)) == 0, "the corners are transparent"
    assert path.stat().st_size < 64_000


def test_windows_icon_has_the_small_sizes() -> None:
    with Image.open(ICONS / f"{APP_ID}.ico") as image:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(image.info["sizes"])


def test_png_icons_are_rendered_from_the_svg() -> None:
    tool("rsvg-convert", "librsvg2-bin")
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "make_icons.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_window_icon_is_the_application_icon() -> None:
    """The GUI ships its own copy of the SVG as package data; it must stay the one in resources/icons."""
    root = Path(__file__).resolve().parents[2]
    shipped = root / "artimuse_desktop" / "gui" / "themes" / "app-icon.svg"
    assert shipped.read_bytes() == (root / "resources" / "icons" / "app.artimuse.Desktop.svg").read_bytes()
