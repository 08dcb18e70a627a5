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

.PHONY: venv run test ui sample benchmark clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml:
	@mkdir -p "$(DAGSTER_HOME)"
	@printf 'telemetry:\n  enabled: false\n' > "$@"

run: venv $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m botstudy_assets.run

test: venv
	$(BIN)/python -m pytest

ui: venv $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m botstudy_assets.run --sync-partitions
	$(BIN)/dagster dev --host 127.0.0.1 --port $(BOTSTUDY_UI_PORT)

# Regenerate the embedded synthetic sample and its rater files (deterministic).
sample: venv
	$(BIN)/python -m botstudy_assets.synthetic --out data/sample --labels data/labels/sample/coding

clean:
	rm -rf $(VENV) .dagster_home data/*.duckdb data/*.duckdb.wal data/reports
