# SchemaHub. Every target works from any directory: paths resolve from this file's folder.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PYTHON ?= python3.11

export SCHEMAHUB_HOME := $(ROOT)
export DUCKDB_EXTENSION_DIR ?= $(ROOT)/.duckdb_extensions
export LAKE_ROOT ?= lake
# dbt resolves relative paths from the current directory: hand it absolute ones.
LAKE_ABS := $(if $(filter s3://%,$(LAKE_ROOT)),$(LAKE_ROOT),$(if $(filter /%,$(LAKE_ROOT)),$(LAKE_ROOT),$(ROOT)/$(LAKE_ROOT)))
export DBT_PROFILES_DIR := $(ROOT)
export DBT_TARGET ?= $(if $(filter s3://%,$(LAKE_ROOT)),s3,local)
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
DBT := cd $(ROOT) && LAKE_ROOT=$(LAKE_ABS) $(BIN)/dbt

.PHONY: lake-dirs setup test-deps demo ingest build train bench test lint docs shell

## setup: virtualenv with every pinned dependency, and the DuckDB extensions in .duckdb_extensions (idempotent)
setup: $(VENV)/.installed $(DUCKDB_EXTENSION_DIR)/.installed

$(VENV)/.installed: $(ROOT)/requirements.lock $(ROOT)/pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(ROOT)/requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e $(ROOT)
	@touch $@

$(DUCKDB_EXTENSION_DIR)/.installed: $(VENV)/.installed
	$(PY) -m schemahub.extensions $(DUCKDB_EXTENSION_DIR)
	@touch $@

## demo: the whole pipeline on the sandbox exchange (simulated data), end to end, with a closing summary
demo: setup
	cd $(ROOT) && $(BIN)/schemahub demo $(DEMO_ARGS)

## ingest: every configured venue and product from the real exchanges into the lake (SCHEMAHUB_EXCHANGE=sandbox for the sandbox)
ingest: setup
	$(BIN)/schemahub ingest binance coinbase kraken

## build: dbt build (seeds, models, tests) against the lake of LAKE_ROOT
build: setup lake-dirs
	$(DBT) build --target $(DBT_TARGET)

## train: walk-forward LightGBM on gold, baselines, registry and report (TRAIN_ARGS="--horizon 10 ...")
train: setup
	cd $(ROOT) && $(BIN)/schemahub train $(TRAIN_ARGS)

## bench: speed and memory against floors measured in the same run -> BENCHMARKS.md (BENCH_ARGS="--size small")
bench: setup
	cd $(ROOT) && $(PY) -m bench.run $(BENCH_ARGS)

# DuckDB creates one directory level only: a local lake needs its layer folders before dbt writes into them.
lake-dirs:
	@$(if $(filter s3://%,$(LAKE_ABS)),true,mkdir -p $(LAKE_ABS)/bronze $(LAKE_ABS)/silver $(LAKE_ABS)/gold)

## lint: ruff (Python) and sqlfluff (dbt SQL)
lint: setup
	cd $(ROOT) && $(BIN)/ruff check .
	cd $(ROOT) && $(BIN)/sqlfluff lint models tests/singular macros --processes 2

## test-deps: Debian's chromium for the browser tests (installed when missing and we are root, e.g. in CI)
test-deps:
	@command -v chromium >/dev/null || { [ "$$(id -u)" != 0 ] && echo "chromium missing: browser tests will skip (apt-get install chromium)" || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; }

## test: lint, then the whole test suite
test: lint test-deps
	cd $(ROOT) && $(PY) -m pytest -q

## docs: the dbt docs lineage site as one static HTML file (target/static_index.html)
docs: setup lake-dirs
	$(DBT) docs generate --static --target $(DBT_TARGET)
	@echo "lineage site: $(ROOT)/target/static_index.html"

## shell: the DuckDB CLI with every lake table queryable by name
shell: setup
	cd $(ROOT) && $(BIN)/schemahub shell-init --output $(ROOT)/target/shell_init.sql && $(BIN)/duckdb -init $(ROOT)/target/shell_init.sql
