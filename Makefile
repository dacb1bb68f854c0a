# Two commands matter: `make demo` and `make test`. Both build .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NBA_PROPS_HOME ?= $(CURDIR)/.nba_props
export NBA_PROPS_HOME
DAGSTER_HOME ?= $(NBA_PROPS_HOME)/dagster_home
PYTEST_ARGS ?=

.PHONY: install demo test ui bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/nba-props demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

ui: $(STAMP)
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev -w workspace.yaml

bench: $(STAMP)
	for script in bench/[a-z]*.py; do $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) .nba_props .pytest_cache
