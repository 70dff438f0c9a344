#!/usr/bin/env bash
# Build the self-contained ArtiMuse Desktop application with PyInstaller, and a .deb of each build.
#
#   packaging/build.sh [light|full|all]      (default: all)
#
# Results:  dist/light/artimuse-desktop/  and  dist/full/artimuse-desktop/   (one-folder apps)
#           dist/artimuse-desktop_<version>_<arch>.deb  and  dist/artimuse-desktop-full_<version>_<arch>.deb
# Needs:    PyInstaller in the Python environment used (pip install -r packaging/requirements.txt); the full
#           flavour also needs torch and transformers there (pip install -e '.[artimuse]'). No network is used.
#           dpkg-deb for the .deb files (skipped when missing, e.g. on macOS).
# Env:      PYTHON (default .venv/bin/python if present, else python3), DIST_DIR (default dist),
#           BUILD_DIR (default build/pyinstaller: PyInstaller's cache, reused between runs), NO_DEB=1 to skip
#           the .deb, DEB_COMPRESSION (xz by default; zstd is ~50x faster and 35% larger).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
WHAT=${1:-all}
case "$WHAT" in
    light) FLAVOURS=(light) ;;
    full) FLAVOURS=(full) ;;
    all) FLAVOURS=(light full) ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [light|full|all]" >&2; exit 2 ;;
esac
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
DIST_DIR=${DIST_DIR:-dist}
BUILD_DIR=${BUILD_DIR:-build/pyinstaller}

"$PYTHON" -c "import PyInstaller" 2>/dev/null || {
    echo "PyInstaller is not installed for $PYTHON: $PYTHON -m pip install -r packaging/requirements.txt" >&2
    exit 1
}

for flavour in "${FLAVOURS[@]}"; do
    if [ "$flavour" = full ]; then
        "$PYTHON" -c "import torch, transformers, safetensors, tokenizers" 2>/dev/null || {
            echo "the full build needs torch and transformers: $PYTHON -m pip install -e '.[artimuse]'" >&2
            exit 1
        }
    fi
    echo "== building the $flavour flavour"
    started=$(date +%s)
    "$PYTHON" -m PyInstaller --noconfirm --log-level WARN \
        --distpath "$DIST_DIR/$flavour" --workpath "$BUILD_DIR/$flavour" \
        packaging/artimuse-desktop.spec -- --flavour "$flavour"
    app="$DIST_DIR/$flavour/artimuse-desktop"
    "$app/artimuse-desktop" --version
    echo "   $(du -sh "$app" | cut -f1) in $app, built in $(( $(date +%s) - started )) s"
    if [ -z "${NO_DEB:-}" ] && command -v dpkg-deb >/dev/null; then
        deb=$(packaging/build_deb.sh "$app" "$DIST_DIR" "$flavour")
        echo "   $(du -h "$deb" | cut -f1) $deb"
    fi
done
