# Helpdesk suite. `make run` sets up and starts everything; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# every services/<name>/service.py is a service (the rule of helpdesk_common.services.discover)
SERVICES ?= $(sort $(patsubst services/%/service.py,%,$(wildcard services/*/service.py)))
TEST_PG_URL ?= postgresql+psycopg://helpdesk:helpdesk@127.0.0.1:5432/helpdesk
export HELPDESK_TEST_AMQP_URI ?= amqp://guest:guest@127.0.0.1:5672/helpdesk_test

.PHONY: install run migrate seed broker redis browser postgres test test-unit test-integration test-e2e test-postgres fuzz lint bench catalogue clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	@printf '%s\n%s\n' "$(CURDIR)/libs" "$(CURDIR)" > $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/helpdesk.pth
	@touch $@

install: $(VENV)/.installed  ## create the virtualenv and install the pinned dependencies

broker:  ## make sure RabbitMQ answers (installs and starts it when missing and root)
	@bash scripts/ensure_rabbitmq.sh --vhost helpdesk_test

redis:  ## make sure Redis answers (the gateway's shared rate-limit counters; installs and starts it when missing and root)
	@bash scripts/ensure_redis.sh

browser:  ## make sure Debian's Chromium is there for the browser tests (installs it when missing and root)
	@bash scripts/ensure_chromium.sh $(BROWSER_ARGS)

postgres:  ## make sure a local PostgreSQL with a `helpdesk` role answers (for the PostgreSQL test run)
	@bash scripts/ensure_postgres.sh

migrate: install  ## run every service's migrations
	@for s in $(SERVICES); do $(VENV)/bin/alembic -c services/$$s/alembic.ini upgrade head || exit 1; done

seed: install  ## seed the demo data once (HELPDESK_DEMO=1)
	@for s in $(SERVICES); do [ ! -f services/$$s/seed.py ] || HELPDESK_DEMO=1 $(PY) -m services.$$s.seed || exit 1; done

run: install broker redis migrate seed  ## install, migrate, seed, start every service and the gateway
	@bash scripts/run.sh

test: install broker redis browser  ## unit, integration and end-to-end tests on the embedded default (SQLite)
	$(PY) -m pytest $(PYTEST_ARGS)

test-postgres: install broker redis browser postgres  ## the same suite on PostgreSQL
	HELPDESK_TEST_POSTGRES_URL=$(TEST_PG_URL) $(PY) -m pytest $(PYTEST_ARGS)

test-unit: install
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-integration: install broker
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

test-e2e: install broker redis browser
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

fuzz: install broker redis  ## schemathesis over the OpenAPI, as admin, agent and customer, on a throwaway stack (a few minutes)
	$(PY) -m fuzz $(FUZZ_ARGS)

lint: install  ## ruff, import rules, and the event catalogue being current
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m helpdesk_contracts.catalogue --check

catalogue: install  ## regenerate docs/events from the contracts
	$(PY) -m helpdesk_contracts.catalogue

bench: install broker redis postgres  ## print performance figures (not a test); drives creates with wrk when it can
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || \
		  { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
		  echo "bench: wrk not installed; creates are driven from Python threads instead"; }
	$(PY) -m bench

clean:
	rm -rf var $(VENV)
