# `make run`: set everything up and decide the bundled example households.
# `make test`: set everything up and run the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
AS_OF ?= 2021-09-01
CASES_AS_OF ?= 2025-06-30

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/fangpin check policies/fujian_2021.yaml
	$(BIN)/fangpin eval policies/fujian_2021.yaml examples/households.jsonl \
		--as-of $(AS_OF) -o out/decisions.jsonl --rejects out/rejects.jsonl
	$(BIN)/fangpin eval policies/fujian_2021.yaml examples/households.jsonl \
		--cases examples/cases.jsonl --as-of $(CASES_AS_OF) \
		-o out/decisions_with_deadlines.jsonl --rejects out/rejects_with_deadlines.jsonl
	$(BIN)/fangpin duties --as-of $(CASES_AS_OF)
	@echo "decisions: out/decisions.jsonl; with the cases' deadlines: out/decisions_with_deadlines.jsonl"

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
