# csqa: two commands set everything up on a machine with only Python:
#   make demo   # virtualenv + install + audit sample_transcripts/ + print scorecards
#   make test   # virtualenv + install + the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.csqa-installed
JOBS   ?= 2

.PHONY: install demo test lint bench eval clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/csqa audit sample_transcripts --out csqa-out

test: install ensure-chromium
	$(BIN)/python -m pytest -n $(JOBS) -p no:cacheprovider

lint: install
	$(BIN)/ruff check src tests tools $(wildcard benchmarks)
	$(BIN)/mypy

bench: install  # every benchmark runs; the target fails if any of them did
	$(BIN)/python benchmarks/run.py; a=$$?; \
	$(BIN)/python benchmarks/bench_conversation.py; b=$$?; \
	$(BIN)/python benchmarks/bench_tolerance.py; c=$$?; \
	$(BIN)/python benchmarks/bench_meaning.py; d=$$?; \
	$(BIN)/python benchmarks/bench_parts.py; \
	$(BIN)/python benchmarks/bench_db.py; e=$$?; \
	exit $$(( a || b || c || d || e ))

eval: install  # judgement quality on tests/eval/lines.yaml; fails when a test-split target is missed
	$(BIN)/python benchmarks/eval_meaning.py

clean:
	rm -rf csqa-out bench-out .pytest_cache .mypy_cache .ruff_cache

# Debian's chromium (and a CJK font) for the HTML report's browser test; never fails the build:
# without root or apt-get it only says why, and that test skips.
.PHONY: ensure-chromium
ensure-chromium:
	sh tests/support/ensure_chromium.sh
