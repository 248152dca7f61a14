# The README's first two commands: `make run` and `make test`. Both set everything up.
SHELL := /bin/bash
# The interpreter itself, not a shim (pyenv's): uv recreates a venv whose interpreter differs
# from the one asked for, and the path of a shim always differs.
ifndef PYTHON
PYTHON := $(shell p=$$(command -v python3.11 || command -v python3) && "$$p" -c 'import sys; print(sys.executable)')
endif
VENV := .venv
BIN := $(VENV)/bin
# PROFILE=team (or NPL_PROFILE=team): Dagster on Postgres, the warehouse a DuckLake on S3
# (docs/team.md); its instance and settings are in .dagster_home/team, written by `make team-up`.
PROFILE ?= $(or $(NPL_PROFILE),embedded)
ifeq ($(PROFILE),team)
export NPL_PROFILE := team
export DAGSTER_HOME := $(CURDIR)/.dagster_home/team
TEAM_ENV := $(DAGSTER_HOME)/team.env
# The settings team-up wrote (Postgres and S3 endpoints, keys), exported to every command.
ifneq ($(wildcard $(TEAM_ENV)),)
include $(TEAM_ENV)
export $(shell sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' $(TEAM_ENV))
endif
endif
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DUCKDB_DATABASE ?= $(CURDIR)/data/npl.duckdb
export NPL_SERVING_DATABASE ?= $(CURDIR)/data/npl_serving.duckdb
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
# Python caches compiled bytecode in the venv; an environment that turns that off (some
# container images do) makes every process recompile every module it imports: the imports of
# one run step took 11 s instead of 5.
unexport PYTHONDONTWRITEBYTECODE
MANIFEST := dbt_project/target/manifest.json
RUN_LOG := $(DAGSTER_HOME)/last_run.log
SITE := data/site/manifest.json

.PHONY: run test test-heavy lint format dev site bench bench-parse clean install install-dev manifest reliability \
	upgrade team-up team-down

# Exactly the locked set (uv.lock), installed by uv; uv itself comes from the package registry
# when the machine lacks it. `--locked` fails when pyproject.toml and uv.lock disagree, so a
# dependency missing from the lock fails the set-up (and CI) instead of resolving something new.
# Two stamps: `make run` needs the runtime set only (18,800 files: 3-8 s from an empty cache
# here, where the dev set's 52,000 took 5-17 s); the dev set (tests, lint, bench, the team
# profile's servers) is added by the targets that use it. The runtime sync is --inexact so that
# it never removes the dev set a `make test` installed.
UV := $(shell command -v uv 2>/dev/null || echo $(PYTHON) -m uv)
UV_SYNC := $(UV) sync --locked --python $(PYTHON)
# uv's summary lines (resolved, prepared, installed: progress on a slow network) without its
# line per package.
UV_SUMMARY := { grep -Ev '^ *(Downloading|Downloaded|Building|Built|[-+~] )' || true; }
define BOOTSTRAP_UV
	@$(UV) --version >/dev/null 2>&1 || { echo "bootstrapping uv from the package registry"; \
		$(PYTHON) -m pip install -q uv 2>&1 | grep -v "is ignored: it is neither" || true; }
endef
$(BIN)/.installed: pyproject.toml uv.lock
	$(BOOTSTRAP_UV)
	@echo "installing the locked runtime set into $(VENV) (uv sync --locked)"
	@set -o pipefail; $(UV_SYNC) --inexact 2>&1 | $(UV_SUMMARY)
	@touch $@

$(BIN)/.installed-dev: pyproject.toml uv.lock
	$(BOOTSTRAP_UV)
	@echo "installing the locked set with the dev extra into $(VENV) (uv sync --locked --extra dev)"
	@set -o pipefail; $(UV_SYNC) --extra dev 2>&1 | $(UV_SUMMARY)
	@touch $@ $(BIN)/.installed

# Re-resolve every dependency to its newest allowed version, then run the tests on that set.
upgrade:
	$(UV) lock --upgrade
	$(MAKE) test

install: $(BIN)/.installed

install-dev: $(BIN)/.installed-dev

DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o -path dbt_project/logs -prune -o \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print)
# Parsed with the vars the run passes (WarehouseResource.dbt_vars), so the run's parse is partial.
$(MANIFEST): $(BIN)/.installed $(DBT_SOURCES)
	@echo "parsing the dbt project (dbt_project/target/manifest.json)"
	@cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir . --project-dir . --target-path target \
		--vars '{"npl_duckdb_path": "$(DUCKDB_DATABASE)", "npl_target": "dev"}'

manifest: $(MANIFEST)

# Rebuilt when the generator changes (its PDFs' bytes follow the generator's code).
SITE_SOURCES := $(wildcard npl_assets/site/*.py)
$(SITE): $(BIN)/.installed $(SITE_SOURCES)
	@$(BIN)/npl site build --force

site: $(SITE)

# The instance's storage is created here, once: two first runs at once would both create it
# and can leave its SQLite schema with two heads, which breaks every later Dagster command.
ifeq ($(PROFILE),team)
$(DAGSTER_HOME)/dagster.yaml:
	@echo "the team profile's instance is not set up: run make team-up first" >&2; exit 1
else
$(DAGSTER_HOME)/dagster.yaml: dagster.yaml $(BIN)/.installed
	@mkdir -p $(DAGSTER_HOME)
	@cp dagster.yaml $@
	@$(BIN)/python -c "import dagster as dg; dg.DagsterInstance.get().get_run_records(limit=1)"
endif

# DuckDB's extensions (ducklake, postgres, httpfs) from their registry wheels into .duckdb/:
# nothing is downloaded at run time.
EXTENSIONS := .duckdb/.installed
$(EXTENSIONS): $(BIN)/.installed
	@$(BIN)/npl team extensions > /dev/null
	@touch $@

# A local PostgreSQL (Debian's package, as user postgres, in a temp folder) and moto's S3
# server, both on 127.0.0.1 on free ports; writes .dagster_home/team/{dagster.yaml,team.env}.
team-up: $(BIN)/.installed-dev $(EXTENSIONS)
	@command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
		|| { apt-get install -y -qq postgresql >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; }; }
	@$(BIN)/npl team up --home $(CURDIR)/.dagster_home/team

team-down: $(BIN)/.installed-dev
	@$(BIN)/npl team down --home $(CURDIR)/.dagster_home/team

# The team profile's run talks to Postgres and S3 (the team extra, in the dev set).
RUN_INSTALLED := $(BIN)/.installed$(if $(filter team,$(PROFILE)),-dev)
# A run that finds nothing new skips everything below the crawl; `make run REBUILD=1` runs it all.
REBUILD ?=
REBUILD_CONFIG := $(DAGSTER_HOME)/rebuild.yaml
# The run's log goes to RUN_LOG; on screen, one line per step as it finishes.
STEP_PROGRESS := awk '/ - STEP_(SUCCESS|FAILURE) - / && match($$0, /step "[^"]+"/) { \
	step = substr($$0, RSTART + 6, RLENGTH - 7); took = ""; \
	if (match($$0, /" in [0-9.ms]+[0-9ms]/)) took = substr($$0, RSTART + 5, RLENGTH - 5); \
	printf "  %-6s %-52s %s\n", (index($$0, "STEP_FAILURE") ? "FAILED" : "done"), step, took; fflush() }'
# What the run needs besides the install, made at once (-j): the site's rendering, dbt's parse
# and the instance's creation are independent, and on 2 cores they took 21 s one after the other.
RUN_NEEDS := $(SITE) $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml $(if $(filter team,$(PROFILE)),$(EXTENSIONS))
run: $(RUN_INSTALLED)
	@$(MAKE) --no-print-directory -s -j3 $(RUN_NEEDS)
	@echo "running npl_pipeline ($(PROFILE) profile: crawl, parse, quality, dbt, publish, report); log: $(RUN_LOG)"
	@printf 'ops:\n  raw_documents:\n    config:\n      rebuild: true\n' > $(REBUILD_CONFIG)
	@set -o pipefail; start=$$(date +%s); \
	if $(BIN)/dagster job execute -m npl_assets.definitions -j npl_pipeline \
		$(if $(filter 1 true yes,$(REBUILD)),-c $(REBUILD_CONFIG)) 2>&1 | tee $(RUN_LOG) | $(STEP_PROGRESS); then \
		echo "run succeeded in $$(( $$(date +%s) - start )) s; the run is in the Dagster UI's history (make dev)"; \
		if grep -q "nothing to update" $(RUN_LOG); then \
			echo "nothing new on the site: the steps below the crawl were skipped (make run REBUILD=1 runs them)"; fi; \
	else \
		grep -E "STEP_FAILURE|Error" $(RUN_LOG) | tail -20; echo "run failed: see $(RUN_LOG)"; exit 1; \
	fi
	@echo "top seller-quarters by unpaid total ($(if $(filter team,$(PROFILE)),the DuckLake snapshot the run published,serving file $(NPL_SERVING_DATABASE))):"
	@$(BIN)/npl sql "select quarter, seller, seller_type, listings, unpaid_total_yuan, weighted_avg_overdue_days, starting_price_ratio, sold_listings from seller_quarterly_metrics order by unpaid_total_yuan desc limit 15"
	@echo "quarterly reports: data/reports/index.html"
	@$(BIN)/npl status || { echo "documents were lost: stored but neither parsed, quarantined nor failed"; exit 1; }

# Three pytest-xdist workers on 2 cores: much of the suite waits on subprocesses (dbt, Scrapy,
# Dagster run workers), and a third worker fills those waits (5 min 34 s against 6 min 0 s with
# two, measured). --durations shows the 15 slowest tests so regressions show.
TEST_WORKERS ?= 3
# `make test`: everything but the heavy tests (team profile end to end, the kill -9 chain, the
# benchmark suite at a tiny size, a whole run launched through the UI), in under 5 minutes on
# 2 cores; `make test-heavy` runs those, and CI runs both. The session records its wall time
# for `make bench` (data/bench/make_test.json).
PYTEST := $(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadgroup --durations=15
test: $(BIN)/.installed-dev $(MANIFEST)
	NPL_TEST_TIMING_FILE=$(CURDIR)/data/bench/make_test.json $(PYTEST) -m "not heavy"

test-heavy: $(BIN)/.installed-dev $(MANIFEST)
	$(PYTEST) -m heavy

# lint-imports: the layer contracts in pyproject.toml ([tool.importlinter]); --no-cache keeps its
# cache folder out of the checkout.
lint: $(BIN)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: $(BIN)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# UI + daemon (schedules, sensors, declarative automation) on http://127.0.0.1:3000. Without
# NPL_SOURCE_URL the bundled site is served on 127.0.0.1:$(SITE_PORT) and becomes the `site`
# resource's URL: the new-announcement sensor polls it and the crawls read it.
# The venv goes first on PATH (dagster-dbt looks for `dbt` there), and SIGINT is restored to
# its default where GNU env can (a background shell starts jobs with SIGINT ignored, and
# `dagster dev` then ignores SIGTERM too).
SITE_PORT ?= 8765
DAGSTER_DEV = $$(env --default-signal=INT true 2>/dev/null && echo env --default-signal=INT) \
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml
dev: $(RUN_INSTALLED)
	@$(MAKE) --no-print-directory -s -j3 $(RUN_NEEDS)
	@export PATH="$(CURDIR)/$(BIN):$$PATH"; \
	if [ -n "$$NPL_SOURCE_URL" ]; then exec $(DAGSTER_DEV); fi; \
	$(BIN)/npl site serve --port $(SITE_PORT) > $(DAGSTER_HOME)/site-serve.log 2>&1 & site=$$!; \
	trap 'kill $$site 2>/dev/null' EXIT INT TERM; \
	echo "bundled site served on http://127.0.0.1:$(SITE_PORT) (log: $(DAGSTER_HOME)/site-serve.log)"; \
	NPL_SOURCE_URL=http://127.0.0.1:$(SITE_PORT) NPL_SENSOR_INTERVAL=$${NPL_SENSOR_INTERVAL:-10} \
		$(DAGSTER_DEV)

bench-parse: $(BIN)/.installed-dev $(SITE)
	$(BIN)/npl bench parse

# The performance suite (README, "Performance"): one table, data/bench/results.json. Under 20
# minutes on 2 cores the first time (the 20,000-listing site is built once into
# data/bench/site/), about 12 after. Options pass through, e.g.
# make bench BENCH_ARGS="--listings 500 --scale-sizes 1000,10000 --no-freshness"
BENCH_ARGS ?=
bench: $(BIN)/.installed-dev $(MANIFEST)
	$(BIN)/python -m harness.benchmarks $(BENCH_ARGS)

# Reliability (README, "Reliability"): the crawl under faults, kill -9 at every step, two runs at
# once with a reader, fuzzed PDFs, a hostile site and the privacy scan, on temp copies of the
# platform; one table, exit code 1 on any duplicate, lost document, reader error or untyped crash.
# RELIABILITY_ARGS="--quick" runs the sizes of `make test`, "--only crash fuzz" a subset.
RELIABILITY_ARGS ?=
reliability: $(BIN)/.installed-dev $(MANIFEST)
	$(BIN)/python -m harness.reliability $(RELIABILITY_ARGS)

clean:
	rm -rf data/site data/raw data/*.duckdb* dbt_project/target dbt_project/logs .duckdb
