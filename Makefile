# unitecon: `make demo` and `make test` work on a fresh machine; the venv is created here.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint types bench clean venv browser focus-validator java

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,spark]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP) browser
	$(BIN)/unitecon demo

# Debian's chromium (browser tests; the memo's PDF) and poppler-utils (the PDF's test), via
# apt (idempotent; skipped without root outside CI, where those tests then skip with a reason).
browser:
	@sh scripts/install-browser.sh || { [ -z "$$CI" ] && echo "no chromium: browser tests will be skipped"; }

# The FinOps Foundation's FOCUS validator in its own venv, for the FOCUS export's test.
focus-validator:
	@sh scripts/install-focus-validator.sh

# Debian's OpenJDK 17 for the Spark engine's tests (idempotent; outside CI without root the
# two-engine tests then skip with a reason, in CI they fail).
java:
	@sh scripts/install-java.sh || { [ -z "$$CI" ] && echo "no java: Spark tests will be skipped"; }

test: $(STAMP) browser focus-validator java
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/ruff check src tests bench scripts

types: $(STAMP)
	$(BIN)/mypy

check: lint types test

bench: $(STAMP)
	$(BIN)/python bench/ledger.py --rows 10000000 --runs 2
	$(BIN)/python bench/montecarlo.py
	$(BIN)/python bench/cli.py

clean:
	rm -rf $(VENV) .venv-focus .unitecon .pytest_cache .mypy_cache .ruff_cache
