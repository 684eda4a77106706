# The two commands: `make run` (serve with demo data) and `make test` (lint, types, tests).
# Everything runs from a local virtual environment in .venv, made on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

# Where `make run` serves: `make run PORT=5001` or `PORT=5001 make run` (the command
# line wins over the environment). Always on 127.0.0.1: `make run` is for development.
HOST := 127.0.0.1
PORT ?= 5000
export PORT
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-x -k auth"`.
PYTEST_ARGS ?=

# `make run` and friends use the development settings unless told otherwise.
MARKETPLACE_ENV ?= development
export MARKETPLACE_ENV

# Stamps: the package is (re)installed only when pyproject.toml changes.
INSTALLED := $(VENV)/.installed
INSTALLED_DEV := $(VENV)/.installed-dev

.DEFAULT_GOAL := help

.PHONY: help run test install install-dev lint format typecheck layers pytest worker migrate seed clean

help:
	@echo "make run        install, migrate, load demo data, serve on http://$(HOST):$(PORT) (docs: /api/docs)"
	@echo "make test       ruff check, ruff format --check, mypy, lint-imports, pytest (PYTEST_ARGS=...)"
	@echo "make install    create $(VENV) and install the package"
	@echo "make lint       ruff check"
	@echo "make format     ruff format and ruff check --fix"
	@echo "make typecheck  mypy"
	@echo "make layers     lint-imports: imports point down the layers (pyproject.toml)"
	@echo "make pytest     pytest only (PYTEST_ARGS=...)"
	@echo "make worker     Celery worker with beat (needs REDIS_URL)"
	@echo "make migrate    flask db upgrade"
	@echo "make seed       load the demo data (idempotent)"
	@echo "make clean      remove $(VENV), caches and instance/*.db"

# --- environment -----------------------------------------------------------

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "error: Python 3.11+ is needed; '$(PYTHON)' is $$($(PYTHON) --version 2>&1). Try: make PYTHON=python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -e .
	@touch $@

# The dev extra includes every runtime dependency, so it satisfies both stamps.
$(INSTALLED_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -e '.[dev]'
	@touch $(INSTALLED) $@

install: $(INSTALLED)

install-dev: $(INSTALLED_DEV)

# --- the two commands ------------------------------------------------------

# The periodic jobs (outbox retries, task expiry) run beside the server and stop with it.
run: $(INSTALLED)
	@case "$$PORT" in ''|*[!0-9]*|0*) false;; *) test "$$PORT" -le 65535;; esac || \
		{ echo "error: PORT must be a port number from 1 to 65535, e.g. make run PORT=5001 (got '$$PORT')" >&2; exit 1; }
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) run-periodic & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
		$(FLASK) run --host $(HOST) --port "$$PORT"

test: $(INSTALLED_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

# --- the pieces ------------------------------------------------------------

lint: $(INSTALLED_DEV)
	$(BIN)/ruff check .

format: $(INSTALLED_DEV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(INSTALLED_DEV)
	$(BIN)/mypy

layers: $(INSTALLED_DEV)
	$(BIN)/lint-imports

pytest: $(INSTALLED_DEV)
	$(BIN)/pytest $(PYTEST_ARGS)

worker: $(INSTALLED)
	@test -n "$$REDIS_URL" || { echo "error: set REDIS_URL, e.g. REDIS_URL=redis://127.0.0.1:6379/0 make worker" >&2; exit 1; }
	@mkdir -p instance
	$(BIN)/celery -A marketplace.jobs.worker worker -B --schedule-filename instance/celerybeat-schedule --loglevel=info

migrate: $(INSTALLED)
	$(FLASK) db upgrade

seed: $(INSTALLED)
	$(FLASK) seed-demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache htmlcov .coverage build dist *.egg-info
	rm -rf tests/typescript/node_modules
	rm -f instance/*.db instance/celerybeat-schedule*
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
