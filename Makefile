# Cautiva: `make run` starts the whole system on SQLite; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= python3
SYSTEM_PACKAGES := freeradius-utils freeradius freeradius-postgresql chromium chromium-driver

.PHONY: install system-deps run test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# radclient (the independent RADIUS client the tests use), the FreeRADIUS peer for bench, and
# Chromium with its driver for the browser test: installed when any of them is missing.
system-deps:
	@if command -v radclient >/dev/null && test -x /usr/sbin/freeradius \
		&& test -x /usr/bin/chromium && test -x /usr/bin/chromedriver; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(SYSTEM_PACKAGES); \
	else echo "install the Debian packages: $(SYSTEM_PACKAGES)"; exit 1; fi

run: install
	$(BIN)/cautiva demo
	$(BIN)/cautiva serve

test: install system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install system-deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache test-artifacts
