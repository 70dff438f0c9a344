#!/usr/bin/env bash
# Make a Debian package from a PyInstaller one-folder build (packaging/artimuse-desktop.spec).
#
#   packaging/build_deb.sh DIST_FOLDER OUT_DIR [light|full]
#
# DIST_FOLDER is the built application folder (the one holding the `artimuse-desktop` executable). The package
# installs it into /opt/artimuse-desktop, links /usr/bin/artimuse-desktop to it, and adds the .desktop entry,
# the AppStream metainfo and the hicolor icons. The icon cache, desktop database and MIME cache are refreshed
# by dpkg's file triggers (gtk-update-icon-cache, desktop-file-utils, shared-mime-info): no maintainer scripts.
#
# Package names: `artimuse-desktop` is the light build; `artimuse-desktop-full` (with torch) replaces it.
# Environment: DEB_COMPRESSION (xz, the default; gzip or zstd build faster), DEB_COMPRESSION_LEVEL,
# DEB_VERSION (default: the app's version), DEB_MAINTAINER.
set -euo pipefail

if [ $# -lt 2 ]; then
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
DIST=$(cd "$1" && pwd)
OUT=$2
FLAVOUR=${3:-light}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
APP_ID=app.artimuse.Desktop

[ -x "$DIST/artimuse-desktop" ] || { echo "no artimuse-desktop executable in $DIST" >&2; exit 1; }
case "$FLAVOUR" in
    light) PACKAGE=artimuse-desktop; OTHER=artimuse-desktop-full; SUMMARY_EXTRA="light build: built-in analyzer" ;;
    full) PACKAGE=artimuse-desktop-full; OTHER=artimuse-desktop; SUMMARY_EXTRA="full build with the ArtiMuse model runtime" ;;
    *) echo "flavour must be light or full, not $FLAVOUR" >&2; exit 2 ;;
esac
VERSION=${DEB_VERSION:-$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/artimuse_desktop/__init__.py")}
ARCH=$(dpkg --print-architecture)
MAINTAINER=${DEB_MAINTAINER:-ArtiMuse Desktop developers <artimuse-desktop@users.noreply.github.com>}

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STAGE=$(mktemp -d "$OUT/.deb-stage-XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

install -d "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" "$STAGE/usr/share/metainfo" \
    "$STAGE/usr/share/doc/$PACKAGE" "$STAGE/DEBIAN"
cp -a "$DIST" "$STAGE/opt/artimuse-desktop"
ln -s /opt/artimuse-desktop/artimuse-desktop "$STAGE/usr/bin/artimuse-desktop"
install -m 644 "$ROOT/resources/linux/$APP_ID.desktop" "$STAGE/usr/share/applications/"
install -m 644 "$ROOT/resources/linux/$APP_ID.metainfo.xml" "$STAGE/usr/share/metainfo/"
for png in "$ROOT"/resources/icons/hicolor/*/apps/$APP_ID.png; do
    size=$(basename "$(dirname "$(dirname "$png")")")
    install -D -m 644 "$png" "$STAGE/usr/share/icons/hicolor/$size/apps/$APP_ID.png"
done
install -D -m 644 "$ROOT/resources/icons/$APP_ID.svg" "$STAGE/usr/share/icons/hicolor/scalable/apps/$APP_ID.svg"

cat > "$STAGE/usr/share/doc/$PACKAGE/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: artimuse-desktop
Comment: /opt/artimuse-desktop bundles Python and the app's dependencies as built by PyInstaller; each keeps
 its own licence: Python (PSF-2.0), Qt and PySide6 (LGPL-3.0, dynamically linked, replaceable in
 /opt/artimuse-desktop/_internal), NumPy and SciPy (BSD-3-Clause), Pillow (MIT-CMU), pillow-heif with libheif
 (LGPL-3.0) and x265/libde265 (GPL-2.0+/LGPL-3.0), rawpy with LibRaw (LGPL-2.1/CDDL-1.0), SQLAlchemy and
 Alembic (MIT)$( [ "$FLAVOUR" = full ] && printf ',\n PyTorch (BSD-3-Clause), transformers, tokenizers, safetensors and huggingface_hub\n (Apache-2.0)' ).

Files: *
Copyright: ArtiMuse Desktop developers
License: MIT
EOF

# Owner and permissions independent of the build machine's umask.
chmod -R u=rwX,go=rX "$STAGE"
chmod 755 "$STAGE/opt/artimuse-desktop/artimuse-desktop"

INSTALLED_KB=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<EOF
Package: $PACKAGE
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $INSTALLED_KB
Depends: libc6 (>= 2.36), libgl1, libegl1, libxcb1, libdrm2, fontconfig-config
Recommends: libwayland-client0, libwayland-cursor0, libwayland-egl1, fonts-dejavu-core | fonts-liberation2
Conflicts: $OTHER
Replaces: $OTHER
$( [ "$FLAVOUR" = full ] && echo "Provides: artimuse-desktop" )
Section: graphics
Priority: optional
Homepage: https://github.com/artimuse-desktop/artimuse-desktop
Description: Offline photo culling with aesthetic scores ($SUMMARY_EXTRA)
 ArtiMuse Desktop indexes photo folders into a catalog, scores every photo for
 aesthetics and lets you sort, filter, flag and export the best frames, with an
 expert critique of each photo beside the grid. It reads JPEG, PNG, TIFF, WebP,
 HEIC/HEIF, AVIF and the common camera RAW formats, and never changes your
 originals.
 .
 This is a self-contained build: it bundles its own Python and libraries in
 /opt/artimuse-desktop.
EOF
sed -i '/^$/d' "$STAGE/DEBIAN/control"

DEB="$OUT/${PACKAGE}_${VERSION}_${ARCH}.deb"
COMPRESSION=${DEB_COMPRESSION:-xz}
LEVEL=${DEB_COMPRESSION_LEVEL:-}
dpkg-deb --root-owner-group -Z"$COMPRESSION" ${LEVEL:+-z"$LEVEL"} --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
