# ArtiMuse Desktop: set-up, run and test on a fresh machine. `make run` starts the app, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The CPU build of torch for tests and CI; an unpinned torch pulls a multi-GB CUDA build.
TORCH_PIN ?= torch==2.13.0
# Debian packages the tests use: exiftool reads back the XMP sidecars we write.
TEST_DEBS  := libimage-exiftool-perl
# For benchmarks and screenshots under a virtual display.
EXTRA_DEBS := libvips-tools xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0

.PHONY: run test test-debs lint bench-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The app alone (built-in analyzer; no torch): a light, quick install.
$(VENV)/.app-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

# Everything the tests need: the ArtiMuse extra with the pinned CPU torch, and the test tools.
$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q "$(TORCH_PIN)" -e ".[artimuse,test]"
	touch $@ $(VENV)/.app-installed

test-debs:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
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
	$(BIN)/ruff check artimuse_desktop tests bench docs
	$(BIN)/ruff format --check artimuse_desktop tests bench docs
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
