# O2O developer entry points. `make help` lists them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/o2o/web/static/vendor

.DEFAULT_GOAL := help
.PHONY: help install assets demo serve test test-fast lint format typecheck imports bench-geo messages clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(VENDOR)/.installed: package.json
	@if command -v npm >/dev/null 2>&1; then \
		npm install --no-audit --no-fund --loglevel=error && \
		rm -rf $(VENDOR) && mkdir -p $(VENDOR)/leaflet $(VENDOR)/markercluster $(VENDOR)/qr-scanner && \
		cp -r node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images $(VENDOR)/leaflet/ && \
		cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js node_modules/leaflet.markercluster/dist/MarkerCluster.css node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css $(VENDOR)/markercluster/ && \
		cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/ && \
		cp node_modules/qr-scanner/qr-scanner.umd.min.js node_modules/qr-scanner/qr-scanner-worker.min.js $(VENDOR)/qr-scanner/ && \
		touch $(VENDOR)/.installed; \
	else \
		echo "npm not found: pages will work without the map. Install Node.js/npm and re-run."; \
	fi

install: $(STAMP) $(VENDOR)/.installed ## Create .venv, install O2O with dev tools, fetch front-end packages

assets: $(VENDOR)/.installed ## Fetch front-end libraries from npm into static/vendor

demo: install ## Run the demo (SQLite under var/demo, seeded Shanghai and Beijing) on :8000
	$(BIN)/o2o demo

serve: install ## Serve with settings from the environment (O2O_DATABASE_URL, ...)
	$(BIN)/o2o serve

test: install ## Run the whole test suite (SQLite, PostgreSQL, Redis, headless Chromium)
	$(BIN)/python -m pytest

test-fast: install ## Tests without the browser
	$(BIN)/python -m pytest -m "not browser"

lint: install ## ruff, mypy and the import layering contract
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install ## Format and autofix
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

messages: install ## Extract page texts into src/o2o/locale/*/messages.po (then translate zh_CN)
	mkdir -p var && $(BIN)/pybabel extract -F babel.cfg -k gt -k N_ --no-location --sort-output -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d src/o2o/locale --ignore-obsolete

bench-geo: install ## G1/G2 geo benchmark (PostgreSQL + SQLite + PostGIS); writes docs/benchmarks.md
	$(BIN)/o2o bench geo

clean: ## Remove the virtualenv, caches and demo data
	rm -rf $(VENV) node_modules $(VENDOR) var .pytest_cache .mypy_cache .ruff_cache
