# Two entry points, as in the README: `make handbook` and `make test`.
# Everything is installed into a virtual environment in .venv.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: handbook test lint install clean resign-example benchmark system-packages demo-tsa

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Build the example handbook into _build/html (fails on any warning).
handbook: $(STAMP)
	$(BIN)/qms build --fresh

## The Debian packages the tests need (Chromium, Pango, fonts): installed as root, else named.
system-packages:
	bash .ci/system-packages

## Lint, type-check and run the whole test suite.
test: system-packages lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Give the example documents the signatures they lack, with the DEMO keys.
resign-example: $(STAMP)
	$(BIN)/python tests/fixtures/demo-gnupg/resign.py

## Build and verification figures against plain Sphinx and gpg (takes about 15 minutes).
benchmark: $(STAMP)
	$(BIN)/python -m qms.benchmark --sizes 500,1000

clean:
	rm -rf _build .mypy_cache .ruff_cache .pytest_cache

## The example's DEMO time-stamping authority on 127.0.0.1:8318, until Ctrl-C.
demo-tsa: $(STAMP)
	$(BIN)/python -m tests.tsa_server
