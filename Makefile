# Kehu — two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := kehu.config.settings

.PHONY: run test test-sqlite test-postgres system-deps lint install install-dev bench lock clean

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

## make test: lint, then the whole suite on SQLite and on a throwaway PostgreSQL at the same
## time (two cores: 18 min one after the other, see the report in git log); each suite's output
## is printed whole when it ends, and the run fails if either fails
test: install-dev system-deps
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

# Chromium, the PostgreSQL server binaries and a CJK font, through apt-get when we may
system-deps:
	scripts/system-deps

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m django makemigrations --check --dry-run

# A complete run fails without Chromium instead of skipping the browser tests.
test-sqlite: install-dev system-deps
	KEHU_TEST_DB=sqlite KEHU_REQUIRE_BROWSER=1 $(BIN)/pytest --durations=15

test-postgres: install-dev system-deps
	KEHU_TEST_DB=postgres KEHU_REQUIRE_BROWSER=1 $(BIN)/pytest -m "not browser" --durations=15

## make bench: benchmarks against the raw database (see bench/README.md)
bench: install-dev
	$(BIN)/python bench/run.py
	$(BIN)/python bench/run.py --org enterprise
	$(BIN)/python bench/board.py
	$(BIN)/python bench/board.py --data-dir var/bench/sqlite-c1000000-s1-enterprise --label enterprise --rounds 30
	$(BIN)/python bench/pg.py -- bench/run.py
	$(BIN)/python bench/pg.py --org enterprise -- bench/run.py --org enterprise
	$(BIN)/python bench/pg.py -- bench/board.py --data-dir {data_dir} --list-rounds 10
	$(BIN)/python bench/pg.py --org enterprise -- bench/board.py --data-dir {data_dir} --label enterprise --rounds 20 --list-rounds 10
	$(BIN)/python bench/pg.py -- bench/search.py
	$(BIN)/python bench/card.py
	$(BIN)/python bench/pg.py -- bench/card.py --data-dir {data_dir}
	$(BIN)/python bench/jobs.py
	$(BIN)/python bench/import.py
	$(BIN)/python bench/import_history.py
	$(BIN)/python bench/pg.py -- bench/import_history.py --data-dir {data_dir}
	$(BIN)/python bench/export.py
	$(BIN)/python bench/pg.py -- bench/export.py --data-dir {data_dir}
	$(BIN)/python bench/search.py
	$(BIN)/python bench/dedup.py
	$(BIN)/python bench/pg.py -- bench/dedup.py --data-dir {data_dir}
	$(BIN)/python bench/segments.py
	$(BIN)/python bench/pg.py -- bench/segments.py --data-dir {data_dir}
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/followup.py
	$(BIN)/python bench/pool.py
	$(BIN)/python bench/pg.py -- bench/pool.py --data-dir {data_dir}
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/consent.py
	$(BIN)/python bench/encryption.py
	$(BIN)/python bench/pg.py -- bench/encryption.py --data-dir {data_dir}
	$(BIN)/python bench/metrics.py
	$(BIN)/python bench/pg.py -- bench/metrics.py --data-dir {data_dir}

## make lock: refresh the pinned dependency files from pyproject.toml
lock: $(BIN)/python
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml -q -o requirements/base.lock --python-version 3.11
	$(BIN)/uv pip compile pyproject.toml --extra dev -q -o requirements/dev.lock --python-version 3.11

clean:
	rm -rf $(VENV) build src/*.egg-info
