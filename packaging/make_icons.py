"""Render the application icon's PNG sizes (and the Windows .ico) from resources/icons/app.artimuse.Desktop.svg.

    python packaging/make_icons.py          # rewrite resources/icons/hicolor/*/apps/*.png and the .ico
    python packaging/make_icons.py --check  # exit 1 if a committed PNG differs from a fresh render

The PNGs are committed (a few kB each) so a build needs no SVG renderer; run this after editing the SVG.
Rendering uses ``rsvg-convert`` (Debian: librsvg2-bin); the .ico is assembled from the PNGs with Pillow.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "app.artimuse.Desktop"
ICONS = ROOT / "resources" / "icons"
SVG = ICONS / f"{APP_ID}.svg"
SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES: tuple[int, ...] = (16, 24, 32, 48, 64, 128, 256)


def png_path(size: int, root: Path = ICONS) -> Path:
    return root / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"


def render(size: int, target: Path) -> None:
    tool = shutil.which("rsvg-convert")
    if tool is None:
        raise SystemExit("rsvg-convert not found: install librsvg2-bin (Debian/Ubuntu) or librsvg (Homebrew)")
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([tool, "-w", str(size), "-h", str(size), str(SVG), "-o", str(target)], check=True)


def max_pixel_difference(a: Path, b: Path) -> int:
    from PIL import Image, ImageChops

    with Image.open(a) as first, Image.open(b) as second:
        if first.size != second.size:
            return 255
        diff = ImageChops.difference(first.convert("RGBA"), second.convert("RGBA"))
        return max(high for _, high in diff.getextrema())


def write_ico(root: Path = ICONS) -> Path:
    from PIL import Image

    images = [Image.open(png_path(size, root)).convert("RGBA") for size in ICO_SIZES]
    target = root / f"{APP_ID}.ico"
    images[-1].save(target, format="ICO", sizes=[(s, s) for s in ICO_SIZES], append_images=images[:-1])
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare the committed PNGs with a fresh render")
    parser.add_argument("--tolerance", type=int, default=8, help="largest channel difference --check accepts")
    args = parser.parse_args(argv)
    if args.check:
        stale = []
        with tempfile.TemporaryDirectory() as tmp:
            for size in SIZES:
                fresh = png_path(size, Path(tmp))
                render(size, fresh)
                committed = png_path(size)
                if not committed.is_file() or max_pixel_difference(fresh, committed) > args.tolerance:
                    stale.append(str(committed.relative_to(ROOT)))
        if stale:
            print("out of date (run python packaging/make_icons.py):", *stale, sep="\n  ", file=sys.stderr)
            return 1
        print(f"{len(SIZES)} icon sizes match {SVG.relative_to(ROOT)}")
        return 0
    for size in SIZES:
        render(size, png_path(size))
    ico = write_ico()
    print(f"wrote {len(SIZES)} PNGs under {(ICONS / 'hicolor').relative_to(ROOT)} and {ico.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
