# Two commands on a fresh machine: `make run` starts the app, `make test` passes the tests.
# Each creates .venv and installs what it needs (Chromium from apt for the browser tests).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast fuzz bench chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $(STAMP)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  $(SUDO) apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }; }

run: $(STAMP)
	$(PY) -m uvicorn app.main:app --host $(HOST) --port $(PORT)

test: $(STAMP) chromium
	$(PY) -m pytest

# Engine tests only: no browser, no server.
test-fast: $(STAMP)
	$(PY) -m pytest tests/engine

# Schemathesis over the whole API, 100 examples an operation (make test runs 5).
fuzz: $(STAMP)
	MLP_FUZZ_EXAMPLES=100 $(PY) -m pytest -q tests/reliability/test_fuzz.py

# torch==2.13.0 exactly: that version is a local file here; any other spelling downloads gigabytes.
bench: $(STAMP)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) benchmarks/bench_mnist.py
	$(PY) -m benchmarks.bench_service
	$(PY) -m benchmarks.bench_canvas
	$(PY) -m benchmarks.bench_load

clean:
	rm -rf $(VENV) .pytest_cache
