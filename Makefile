# Each target makes its own virtual environment on first use; nothing else needs typing first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: the service on SQLite in demo mode, at http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/callpledge serve

## test: the whole suite, on SQLite and on PostgreSQL (skipped, and said so, if none answers)
test: $(STAMP)
	$(BIN)/pytest -n auto

## lint: ruff, mypy --strict, and the import rules of the layout (lint-imports)
lint: $(STAMP)
	$(BIN)/ruff check app migrations tests bench
	$(BIN)/ruff format --check app migrations tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

## bench: the benchmarks (real server on the local PostgreSQL, wrk from Debian's packages)
bench: $(STAMP)
	@command -v wrk >/dev/null || { echo "bench needs wrk: apt-get install wrk"; exit 2; }
	$(BIN)/python -m bench

format: $(STAMP)
	$(BIN)/ruff check --fix app migrations tests bench
	$(BIN)/ruff format app migrations tests bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
