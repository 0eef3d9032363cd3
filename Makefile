# Two entry points: `make demo` (the main job) and `make test` (the whole test suite); `make lint` runs
# the checks CI runs (ruff, ruff format, mypy). All create the virtual environment in .venv on first use.
# `make test-fast` leaves out the tests marked slow (corpus, pyx12 and accelerator equivalence,
# headless Chromium, the longest property tests).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast venv bench lint clean

$(BIN)/dripline: pyproject.toml setup.py edi/x835/_accel.c dripline/__init__.py
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/dripline

venv: $(BIN)/dripline

demo: venv
	$(BIN)/dripline demo

test: venv
	$(BIN)/python -m pytest coding edi reconcile dripline tests

test-fast: venv
	$(BIN)/python -m pytest coding edi reconcile dripline tests -m "not slow"

bench: venv
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/run.py

# The pinned checkers (the `lint` extra), installed once per change of pyproject.toml.
$(VENV)/.lint-tools: $(BIN)/dripline pyproject.toml
	$(BIN)/pip install -q -e '.[lint]'
	touch $@

# ruff and mypy read their settings from pyproject.toml (mypy: which folders, how strict).
# All three checks run; the target fails when any of them fails.
lint: $(VENV)/.lint-tools
	@rc=0; \
	echo "ruff check ."; $(BIN)/ruff check . || rc=1; \
	echo "ruff format --check ."; $(BIN)/ruff format --check . || rc=1; \
	echo "mypy"; $(BIN)/mypy || rc=1; \
	exit $$rc

clean:
	rm -rf $(VENV) build *.egg-info
