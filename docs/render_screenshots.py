"""Render the README screenshots without a display: grid with side panel, loupe, and compare.

    python docs/render_screenshots.py [--out docs] [--theme dark]

A sample library of generated, photo-like images (with bursts, varied scores, critiques and decisions) is made
in a temporary folder with its own catalog by ``tests/demo_library.py`` (so this runs from a source checkout);
the real main window is shown on Qt's offscreen platform and grabbed. A real scoring run with the built-in
technical analyzer is started so the status bar shows live progress. Each PNG is kept under ~300 KB: when full
colour is larger, the lowest bits of each channel are dropped (neutral greys stay neutral, gradients stay smooth)
before a palette is tried.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MAX_BYTES = 300 * 1024
SIZE = (1440, 900)


def wait(app: object, condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    from PySide6.QtWidgets import QApplication

    assert isinstance(app, QApplication)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.01)
    return False


def save(image: object, path: Path) -> int:
    """Save a QImage/QPixmap as PNG, reducing colours only when needed to stay under MAX_BYTES."""
    import io

    from PIL import Image, ImageOps
    from PySide6.QtCore import QBuffer, QIODevice

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[attr-defined]
    pil = Image.open(io.BytesIO(bytes(buffer.data().data()))).convert("RGB")
    if os.environ.get("ARTIMUSE_SHOTS_RAW"):
        pil.save(Path(os.environ["ARTIMUSE_SHOTS_RAW"]) / path.name)
    out = io.BytesIO()
    pil.save(out, "PNG", optimize=True)
    # Too big: drop low bits per channel (greys stay neutral, skies stay smooth), a palette as a last resort.
    for bits in (7, 6, 5):
        if out.tell() <= MAX_BYTES:
            break
        out = io.BytesIO()
        ImageOps.posterize(pil, bits).save(out, "PNG", optimize=True)
    if out.tell() > MAX_BYTES:
        out = io.BytesIO()
        pil.quantize(colors=256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.FLOYDSTEINBERG).save(
            out, "PNG", optimize=True
        )
    path.write_bytes(out.getvalue())
    return out.tell()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--theme", default="dark", choices=("dark", "light"))
    parser.add_argument("--photos", type=int, default=60)
    parser.add_argument("--grain", type=float, default=0.6, help="sensor-like noise in the sample photos")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="artimuse-shots-") as tmp:
        os.environ["ARTIMUSE_HOME"] = str(Path(tmp) / "home")
        os.environ["HOME"] = tmp  # the folder tree then shows the sample library as ~/Pictures
        from artimuse_desktop.catalog.db import open_catalog
        from tests.demo_library import generate_library

        catalog = open_catalog(Path(tmp) / "catalog.sqlite")
        started = time.monotonic()
        ids = generate_library(catalog, Path(tmp) / "Pictures", args.photos, size=(1500, 1000), grain=args.grain)
        print(f"sample library: {len(ids)} photos in {time.monotonic() - started:.1f} s")

        from artimuse_desktop.gui.app import create_application
        from artimuse_desktop.gui.main_window import MainWindow
        from artimuse_desktop.gui.theme import apply_theme
        from artimuse_desktop.settings import Settings

        app = create_application()
        apply_theme(app, args.theme)
        window = MainWindow(
            catalog, Settings(theme=args.theme, thumbnail_size=170), settings_path=Path(tmp) / "settings.json"
        )
        window.resize(*SIZE)
        window.show()
        wait(app, window.is_idle)
        window.splitter.setSizes([220, SIZE[0] - 220 - 360, 360])
        window.collections.select("folder", next(iter(window.collections._folder_items)))
        wait(app, window.is_idle)

        # the grid: a five-star landscape is current (its assessment in the panel), thumbnails loaded
        bursts = window.queries.bursts.bursts
        current = ids[8]
        window.grid.select_id(current)
        wait(app, window.is_idle)
        window.grid.viewport().repaint()
        visible = [pid for pid in window.model.ids()[:24]]
        wait(app, lambda: all(window.model.pixmap(pid) is not None for pid in visible))
        wait(app, lambda: window.side_panel.current_id() == current and window.side_panel.preview.pixmap() is not None)
        progress: list[object] = []
        window.jobs.progress.connect(progress.append)
        window.start_scoring(model="technical", rescore=True)
        wait(app, lambda: any(getattr(p, "done", 0) >= 6 for p in progress), timeout=60)
        wait(app, lambda: False, timeout=0.3)
        window.jobs.pause("score")
        window.job_widgets["score"].pause_button.setChecked(True)
        wait(app, lambda: False, timeout=0.3)
        print("grid:", save(window.grab(), args.out / "screenshot-grid.png"), "bytes")
        window.jobs.cancel("score")
        wait(app, lambda: not window.jobs.is_running("score"), timeout=30)
        wait(app, window.is_idle)

        # the loupe on the same photo
        window.statusBar().clearMessage()
        window.set_view("loupe")
        wait(app, lambda: window.images.pixmap(current, "preview") is not None)
        wait(app, window.is_idle)
        print("loupe:", save(window.grab(), args.out / "screenshot-loupe.png"), "bytes")

        # compare the frames of a burst
        window.set_view("grid")
        frames = list(bursts[0].photo_ids[:4]) if bursts else ids[:3]
        best = bursts[0].best_id if bursts else frames[0]
        window.grid.select_ids(frames, best)
        window.open_compare(frames)
        wait(app, lambda: all(window.images.pixmap(pid, "preview") is not None for pid in frames))
        wait(app, window.is_idle)
        window.statusBar().showMessage("Compare: C  ·  ← → choose  ·  P pick  ·  X reject  ·  Z zoom all to 100 %")
        wait(app, lambda: False, timeout=0.2)
        print("compare:", save(window.grab(), args.out / "screenshot-compare.png"), "bytes")
        window.close()
        catalog.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
