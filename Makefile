# Two entry points: `make demo` (the main job) and `make test` (the test suite).
# Both create their own virtual environment in .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test venv bench clean

$(BIN)/dripline: pyproject.toml setup.py edi/x835/_accel.c
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/dripline

venv: $(BIN)/dripline

demo: venv
	$(BIN)/dripline demo

test: venv
	$(BIN)/python -m pytest coding edi reconcile dripline tests

bench: venv
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
