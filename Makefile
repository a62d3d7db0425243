# The two commands a new user needs (README): `make demo` and `make test`.
# Each sets up what it needs first: uv, the locked environment, (tests) Chromium.
# Bytecode is compiled once, at set-up (uv sync --compile-bytecode), not on every `uv run`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")

.PHONY: help setup demo ui quick test lint browser

help:  ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup:  ## Install uv (if missing) and the locked environment into .venv.
	@command -v uv >/dev/null 2>&1 || test -x "$(UV)" || python3 -m pip install --quiet uv
	@"$$(command -v uv || echo $(UV))" sync --frozen --compile-bytecode

demo: setup  ## Run the whole loop on embedded defaults (lake, evaluation, reports).
	@uv run clearlake demo

ui: setup  ## Start the Dagster UI on the embedded instance (http://127.0.0.1:3000).
	@uv run clearlake ui

browser:  ## Headless Chromium for the UI tests (Debian package).
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: setup  ## ruff, mypy, import layers (import-linter), committed notebooks carry no outputs.
	@uv run ruff check platform assets examples tests benchmarks
	@uv run ruff format --check platform assets examples tests benchmarks
	@uv run mypy
	@uv run lint-imports --no-cache --no-logo
	@uv run python -m clearlake.notebooks_clean notebooks examples/flights/notebooks

quick: setup  ## The inner loop: pure logic and in-process assets (no servers, browsers, Terraform).
	@uv run pytest -m "not slow" -q -x --durations=10

test: setup browser lint  ## Lint, then the whole test suite against real services.
	@uv run pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: the suite is broken"; exit 1; fi; \
	exit $$status
