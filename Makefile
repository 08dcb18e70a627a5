# botstudy: `make run` materializes the whole asset graph, `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# Nothing leaves this machine: no usage statistics from Dagster or Great Expectations.
export DAGSTER_DISABLE_TELEMETRY := 1
export GX_ANALYTICS_ENABLED := false
BOTSTUDY_UI_PORT ?= 3000

.PHONY: venv run export test test-slow test-cluster lint ui sample snapshot clean

UV_VERSION := 0.13.9
UV := $(BIN)/uv

# The venv holds exactly what uv.lock pins (hashes checked). uv itself is bootstrapped into it
# with pip, so a fresh machine needs only python3 and make; --inexact keeps pip and uv there.
# Bytecode is compiled once here: where PYTHONDONTWRITEBYTECODE is set (as on CI) every new
# process (each run, Dagster step process, worker) would otherwise compile Dagster from source.
$(STAMP): pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --inexact --quiet --compile-bytecode \
		--python $(BIN)/python
	touch $(STAMP)

venv: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p "$(DAGSTER_HOME)"
	@printf 'telemetry:\n  enabled: false\n' > "$@"

run: venv $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m botstudy_assets.run

# Every table of the published DuckDB file as Parquet (CSV too for small ones) under data/export.
export: venv $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m botstudy_assets.run --export

# The slow tests (`make test-slow`) are the 20,000-issue acceptance runs; CI leaves them out.
test: venv
	$(BIN)/python -m pytest -m "not slow"

test-slow: venv
	$(BIN)/python -m pytest -m slow

# The graph on two Celery workers (Redis broker, Dagster instance on PostgreSQL, both started
# here on 127.0.0.1 and installed from the distribution if missing) against the loopback fake
# GitHub with three tokens, a worker killed mid-walk; compared with an in-process run.
test-cluster: venv
	$(BIN)/python -m botstudy_tests.cluster

# What CI checks before the tests: lint, formatting, types, and that the code location loads.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ty check botstudy_assets
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/dg check defs

ui: venv $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m botstudy_assets.run --sync-partitions
	$(BIN)/dagster dev --host 127.0.0.1 --port $(BOTSTUDY_UI_PORT)

# Record the tables `make run` wrote on the sample (after a change meant to change results).
snapshot: run
	$(BIN)/python -m botstudy_tests.snapshot data/botstudy.duckdb > botstudy_tests/snapshots/sample_tables.json

# Regenerate the embedded synthetic sample and its rater files (deterministic).
sample: venv
	$(BIN)/python -m botstudy_dev.synthetic --out data/sample --labels data/labels/sample/coding

clean:
	rm -rf $(VENV) .dagster_home data/*.duckdb data/*.duckdb.wal data/*.duckdb.lock data/reports data/export
