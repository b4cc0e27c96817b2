# Datapakker: the commands. Every target that needs Python first makes sure the
# virtual environment exists and matches pyproject.toml (quick when nothing changed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: install run test test-executors dev sample fetch serve bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Build every pack from the embedded sample (or from real data in data/raw/ when present).
run: $(STAMP)
	mkdir -p $(DAGSTER_HOME) data/marts
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m pipelines.run_all

## The whole test suite (CI runs exactly this).
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

## The Dagster UI with its daemon (schedule and sensor); run history is kept in .dagster_home/.
dev: $(STAMP)
	mkdir -p $(DAGSTER_HOME) data/marts
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -m pipelines.definitions

## The fan-out refresh on two Celery workers (Redis on 127.0.0.1:6379) and on the multiprocess
## executor, compared with an in-process build (several minutes; not part of `make test`).
test-executors: $(STAMP)
	$(BIN)/python -m pytest -m executors tests/deploy/test_executors.py

## Regenerate the embedded synthetic sample (deterministic, byte-identical on rerun).
sample: $(STAMP)
	$(BIN)/python -m datapakke.raw.sample

## Pull the configured StatBank tables into data/raw/statbank/ (needs network).
fetch: $(STAMP)
	$(BIN)/python -m datapakke.raw.fetch

## Serve the download page on http://127.0.0.1:8000/
serve: $(STAMP)
	$(BIN)/python -m datapakke.publish.site --serve

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf data/marts/* .dagster_home
