# Two commands matter: `make demo` and `make test`. Both build .venv from uv.lock (exact versions).
PYTHON ?= python3
UV_VERSION := 0.13.9
# uv itself is bootstrapped from PyPI into its own small venv, so only Python and make are needed.
UV_HOME := .uv
UV := $(UV_HOME)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NBA_PROPS_HOME ?= $(CURDIR)/.nba_props
export NBA_PROPS_HOME
DAGSTER_HOME ?= $(NBA_PROPS_HOME)/dagster_home
PYTEST_ARGS ?=
# The demo and the UI show the simulated league's own season as the partition range (see README).
NBA_PROPS_PARTITION_SEASONS ?= league
# Use the interpreter make was given; never download a managed Python.
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never

.PHONY: install bytecode demo test lint format ui bench lock clean

$(UV):
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode is compiled once here: with PYTHONDONTWRITEBYTECODE set (as on this machine and CI) every
# process would otherwise recompile dagster, polars and catboost at import (10.7 s against 4.6 s).
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra test --compile-bytecode
	touch $(STAMP)

# The project's own modules change between runs; compileall recompiles only what changed (~0.1 s).
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q nba_props

install: $(STAMP)

demo: bytecode
	NBA_PROPS_PARTITION_SEASONS=$(NBA_PROPS_PARTITION_SEASONS) $(BIN)/nba-props demo

test: bytecode
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff (configured in pyproject.toml): what CI runs before the tests; `make format` fixes what it can.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

ui: bytecode
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || cp nba_props/dagster_instance.yaml $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) NBA_PROPS_PARTITION_SEASONS=$(NBA_PROPS_PARTITION_SEASONS) \
		$(BIN)/dagster dev -w workspace.yaml

# Research scripts need a warehouse (see the README's Benchmarks): not benchmarks, so not run here.
RESEARCH := bench/walk_forward.py bench/learning_curve.py bench/feature_screen.py
bench: bytecode
	for script in $(filter-out $(RESEARCH),$(wildcard bench/[a-z]*.py)); do $(BIN)/python $$script || exit 1; done

# After editing dependencies in pyproject.toml: re-resolve and commit uv.lock.
lock: $(UV)
	$(UV) lock

clean:
	rm -rf $(VENV) $(UV_HOME) .nba_props .pytest_cache
