# `make run`: set everything up and decide the bundled example households.
# `make test`: set everything up and run the whole test suite (the browser tests need chromium:
#   installed here when missing and run as root on Debian).
# `make docs`: the documentation site, with the policy explorer, into docs/_build/html.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
AS_OF ?= 2021-09-01
CASES_AS_OF ?= 2025-06-30

.PHONY: run test test-oldest lint bench clean docs chromium

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

CHROMIUM ?= /usr/bin/chromium
# The test processes (pytest-xdist): CI has 2 cores; `make test TEST_WORKERS=0` runs in one.
TEST_WORKERS ?= 2

# The browser tests (tests/browser_support.py) run Debian's chromium headless, and draw the
# policy's Chinese with a CJK font: fonts-wqy-microhei (1.6 MB) when no font has Chinese.
CJK_FONT ?= fonts-wqy-microhei

chromium:
	@missing=""; \
	[ -x $(CHROMIUM) ] || missing="chromium"; \
	[ -n "$$(fc-list :lang=zh 2>/dev/null)" ] || missing="$$missing $(CJK_FONT)"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "missing for the browser tests:$$missing (on Debian: sudo apt-get install -y" \
				"$$missing); the browser tests fail without it"; \
		fi; \
	fi

test: $(VENV)/.installed-dev chromium
	$(BIN)/python -m pytest -n $(TEST_WORKERS)
	$(MAKE) test-oldest

# The suite again with every dependency of the library and its extras at the floor
# pyproject.toml declares (.ci/oldest_constraints.py), so that each floor is one the tests
# passed on. The slow group (the wheel, the docs site, the browser) ran above; here it would
# only repeat what the floors do not change.
OLDEST_VENV ?= .venv-oldest
$(OLDEST_VENV)/.installed: pyproject.toml .ci/oldest_constraints.py
	rm -rf $(OLDEST_VENV)
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PYTHON) .ci/oldest_constraints.py > $(OLDEST_VENV)/constraints.txt
	$(OLDEST_VENV)/bin/python -m pip install --quiet -c $(OLDEST_VENV)/constraints.txt -e '.[dev]'
	touch $@

test-oldest: $(OLDEST_VENV)/.installed
	$(OLDEST_VENV)/bin/python -m pytest -n $(TEST_WORKERS) -m "not slow"

docs: $(VENV)/.installed-dev
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html
	@echo "documentation: docs/_build/html/index.html; the explorer: docs/_build/html/explorer/"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(OLDEST_VENV) out .pytest_cache .mypy_cache .ruff_cache docs/_build
