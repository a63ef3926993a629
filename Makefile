# Kehu — two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := kehu.config.settings

.PHONY: run test test-sqlite test-postgres lint install install-dev bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements/base.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements/base.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements/dev.lock
	$(BIN)/pip install --quiet -r requirements/dev.lock
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: set up, migrate, load demo data on first run, serve on http://$(HOST):$(PORT) and run a worker (Ctrl-C stops both)
run: install
	$(BIN)/kehu setup
	$(BIN)/kehu run --host $(HOST) --port $(PORT)

## make test: the whole suite on SQLite and on a throwaway PostgreSQL, plus lint
test: install-dev lint test-sqlite test-postgres

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m django makemigrations --check --dry-run

test-sqlite: install-dev
	KEHU_TEST_DB=sqlite $(BIN)/pytest

test-postgres: install-dev
	KEHU_TEST_DB=postgres $(BIN)/pytest -m "not browser"

## make bench: benchmarks against the raw database (see bench/README.md)
bench: install-dev
	$(BIN)/python bench/run.py
	$(BIN)/python bench/card.py
	$(BIN)/python bench/jobs.py

## make lock: refresh the pinned dependency files from pyproject.toml
lock: $(BIN)/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml -q -o requirements/base.lock --python-version 3.11
	$(BIN)/uv pip compile pyproject.toml --extra dev -q -o requirements/dev.lock --python-version 3.11

clean:
	rm -rf $(VENV) build src/*.egg-info
