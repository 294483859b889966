# cruce: the project's vocabulary. `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .uv/bin/uv
BIN := .venv/bin
DEMO_DB ?= var/demo.duckdb
export CRUCE_TEST_PG_URL ?= postgresql://127.0.0.1:5432/test

.PHONY: setup demo test test-fast bench lint format clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev --python $(PYTHON)
	touch $@

setup: .venv/.synced  ## create .venv with every dependency pinned in uv.lock

demo: setup  ## build the demo database and show what is in it
	$(BIN)/python -m cruce.demo --db $(DEMO_DB)

test: setup  ## the whole test suite (PostgreSQL tests skip when no server answers)
	$(BIN)/pytest

test-fast: setup
	$(BIN)/pytest -x -q -m "not slow"

bench: setup  ## side-by-side benchmarks, results in benchmarks/results/
	$(BIN)/python -m benchmarks.run

lint: setup  ## ruff and mypy
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

clean:
	rm -rf .venv .uv var .pytest_cache .mypy_cache .ruff_cache
