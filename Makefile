# The front door: `make run` and `make test` (README). Everything installs
# into a project-local .venv, rebuilt only when pyproject.toml or
# constraints.txt change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE_DIR := data/landing
# The bundled sample ends on this date; runs on it use it as their as-of date
# so that `make run` gives the same warehouse every day.
SAMPLE_AS_OF := 2026-11-28
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# The instance settings (the design's top-level dagster.yaml), copied into DAGSTER_HOME.
INSTANCE_YAML := dagster.yaml
# Port of the Dagster UI: `make dev PORT=3001`.
PORT ?= 3000
# Port of the reports server beside it (`make dev`).
REPORTS_PORT ?= $(shell echo $$(($(PORT) + 1)))

.PHONY: install run test browser-test dev sample lint lock bench clean FORCE

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

install: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: $(INSTANCE_YAML)
	mkdir -p $(DAGSTER_HOME)
	cp $(INSTANCE_YAML) $@

# The code location of `make dev`, as [tool.dg] names it, for a dg dev started from
# DAGSTER_HOME; written every time, since it names the checkout's absolute path.
$(DAGSTER_HOME)/workspace.yaml: FORCE
	mkdir -p $(DAGSTER_HOME)
	printf 'load_from:\n  - python_module:\n      module_name: assets.definitions\n      working_directory: %s\n      location_name: kam_pipeline\n' "$(CURDIR)" > $@

# Sample data for the default landing directory only: a KAM_LANDING_DIR set
# by the operator is used as it is. KAM_AS_OF is the date `make run` builds
# and the landing sensor requests under `make dev`; a run launched from the
# UI builds the partition (as-of date) it was launched for.
ifeq ($(KAM_LANDING_DIR),)
export KAM_AS_OF ?= $(SAMPLE_AS_OF)
endif

sample: install
ifeq ($(KAM_LANDING_DIR),)
	@test -f $(SAMPLE_DIR)/_SUCCESS || $(BIN)/python -m tools.sample_data --out $(SAMPLE_DIR) --as-of $(SAMPLE_AS_OF)
endif

run: install sample $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/kam-pipeline run

test: install
	$(BIN)/pytest

# The tests marked `browser` (left out of `make test`): they need Debian's
# chromium at /usr/bin/chromium, which .ci/run installs.
browser-test: install
	$(BIN)/pytest -m browser

# `dg dev` (the successor of `dagster dev`) runs from DAGSTER_HOME with the
# code location in a workspace file there: Dagster warns about a dagster.yaml
# in the current folder that is not DAGSTER_HOME's, and the design keeps it
# at the top level. Beside it, the reports folder (Data Docs, HTML reports)
# is served on REPORTS_PORT and the runs link to it, so the links open from the UI.
dev: install sample $(DAGSTER_HOME)/dagster.yaml $(DAGSTER_HOME)/workspace.yaml
	$(BIN)/kam-pipeline serve-reports --port $(REPORTS_PORT) & server=$$!; \
	trap 'kill $$server' EXIT INT TERM; \
	cd $(DAGSTER_HOME) && KAM_REPORTS_URL=http://127.0.0.1:$(REPORTS_PORT)/ \
		$(CURDIR)/$(BIN)/dg dev -w $(DAGSTER_HOME)/workspace.yaml --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Refresh constraints.txt from a clean resolve of pyproject.toml's ranges.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude kam-pipeline > constraints.txt
	rm -rf .lock-venv build

clean:
	rm -rf $(VENV) .dagster_home data build *.egg-info

# Benchmark (not part of the tests): BENCH_ARGS="--lines 1e6,1e7 --format csv"
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)
