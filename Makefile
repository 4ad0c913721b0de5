# Thin wrappers; every target sets up its own virtual environment from pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv run test test-fast bench lint clean golden chaos

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e ".[device,host]" --group dev
	touch $(STAMP)

venv: $(STAMP) ## create .venv and install everything from pyproject.toml

run: $(STAMP) ## run the terminal on its embedded default (local simulator, console screen)
	$(BIN)/python -m fmd_terminal.demo

test: $(STAMP) ## the whole test suite, MicroPython run of the core included
	$(BIN)/python tests/core/micropython_run.py
	$(BIN)/python -m pytest -n 2 -q

test-fast: $(STAMP) ## the tests without the slow crash and load tests
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

bench: $(STAMP) ## benchmarks, each beside its anchor
	$(BIN)/python benchmarks/run_all.py

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check device host tests benchmarks
	$(BIN)/mypy

golden: $(STAMP) ## regenerate golden files (screens); review the diff before committing
	FMD_REGENERATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/terminal -k golden

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis build dist
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
