# Two entry points for a fresh machine: `make demo` and `make test`.
# Both create the virtualenv and install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The read-only MovieLens copy that sits beside the checkout on our machines;
# elsewhere `movierec data fetch` downloads and verifies the official zip.
SHARED_ML := $(abspath ../shared/data/ml-100k)
export MOVIELENS_DIR ?= $(if $(wildcard $(SHARED_ML)/u.data),$(SHARED_ML),)
export MOVIEREC_HOME ?= $(abspath .movierec)

.PHONY: setup demo test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	bash scripts/setup_emulators.sh
	bash scripts/install_infra_tools.sh
	bash scripts/install_browser.sh
	touch $@

demo: setup
	bash scripts/demo.sh

test: setup
	$(PY) -m ruff check movierec functions training_job scripts tests
	$(PY) -m mypy
	$(PY) -m pytest

bench: setup
	$(PY) scripts/bench_offline.py

clean:
	rm -rf $(VENV) .movierec .pytest_cache
