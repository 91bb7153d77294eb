# The README's two commands: `make demo` and `make test`. Both install what they need into
# .venv by themselves; the install step is skipped when pyproject.toml and constraints.txt
# have not changed since the last install.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
DEMO_DIR ?= .cache/demo
# Test processes (pytest-xdist); each gets its own share of the cores (tests/conftest.py).
TEST_WORKERS ?= 2

.PHONY: demo test lint typecheck pytest bench fuzz clean install

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/radpipe demo --cache $(DEMO_DIR)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,bench]"
	$(BIN)/python benchmarks/dataset.py
	$(BIN)/python benchmarks/loop.py
	$(BIN)/python benchmarks/loop_instructions.py
	$(BIN)/python benchmarks/surface.py
	$(BIN)/python benchmarks/convert.py
	$(BIN)/python benchmarks/convert_rows.py
	$(BIN)/python benchmarks/convert_instructions.py
	$(BIN)/python benchmarks/augment.py
	$(BIN)/python benchmarks/train.py
	$(BIN)/python benchmarks/metrics.py

fuzz: $(STAMP)
	$(BIN)/python benchmarks/fuzz.py --files 10000

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
