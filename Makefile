# Two entry points for humans and CI: `make demo` (the main job on the built-in lab) and
# `make test` (the test suite). Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test test-slow lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(PY) -m fabric demo

# The suite minus the slow tests (the wheel installed from scratch, real clients at scale, the
# demo end to end), on every core: module by module, so each module's lab starts once.
test: $(VENV)/.installed
	$(PY) -m pytest -q -n auto --dist loadfile -m "not slow"

# The slow tests (CI runs them after `make test`).
test-slow: $(VENV)/.installed
	$(PY) -m pytest -q -n auto --dist loadfile -m slow

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check fabric tests bench
	$(VENV)/bin/ruff format --check fabric tests bench
	$(VENV)/bin/mypy

bench: $(VENV)/.installed
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/run_all.py

clean:
	rm -rf build .fabric
