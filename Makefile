# Two commands do everything: `make demo` and `make test`. Both are idempotent and fast when
# nothing changed (stamps under .make/ track what was installed from which file).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SANDBOX_PORT ?= 8001
DEMO_HOST_PORT ?= 8002

.PHONY: demo test lint bench install migrate seed vendor clean help
.DEFAULT_GOAL := help

help:
	@echo "make demo   install, migrate, seed demo data, start the Kaltura sandbox, the portal and a demo host application"
	@echo "make test   install and run the whole test suite"
	@echo "make lint   ruff (lint and format) and mypy"
	@echo "make bench  every benchmark in bench/: one table, and bench/results.json"

install: .make/python .make/vendor

.make/python: pyproject.toml
	@mkdir -p .make
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# htmx comes from the npm registry (pinned in package-lock.json) and is copied into static/vendor/.
.make/vendor: package.json package-lock.json
	@mkdir -p .make static/vendor
	npm ci --no-audit --no-fund --loglevel=error
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	@touch $@

migrate: install
	$(BIN)/portal migrate

seed: migrate
	@$(BIN)/portal seed-demo | head -n 1

demo: seed
	@HOST=$(HOST) PORT=$(PORT) SANDBOX_PORT=$(SANDBOX_PORT) DEMO_HOST_PORT=$(DEMO_HOST_PORT) BIN=$(BIN) bin/demo

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

# The load generator (locust) is installed for `make bench` only, not for `make test`.
.make/bench: pyproject.toml .make/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $@

# Figures, not pass/fail: run on a quiet machine. BENCH_ARGS="--only gateway --quick" narrows it.
# The load benchmarks need PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL; README).
bench: install .make/bench
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: .make/python
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf .make static/vendor node_modules
