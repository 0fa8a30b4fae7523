# Overturn: the commands the README names.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# The PostgreSQL + Redis run of `make test` (CI sets these services up; see .ci/run).
PG_URL ?= postgres://postgres@127.0.0.1:5432/overturn
REDIS_URL ?= redis://127.0.0.1:6379/14

.PHONY: run install migrate demo serve worker beat test test-sqlite test-postgres lint typecheck bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --no-input

demo: migrate
	$(PY) manage.py load_demo

## make run: install, migrate, load codes and the demo data set, then serve on http://127.0.0.1:8000
run: demo
	@if [ -n "$$CELERY_BROKER_URL" ]; then \
	  echo "Broker configured: starting a Celery worker (with beat) beside the web app"; \
	  $(BIN)/celery -A config worker -B --loglevel=INFO --concurrency=2 & \
	fi; \
	if [ -n "$$INBOX_DIR" ] && [ -z "$$CELERY_BROKER_URL" ]; then \
	  echo "Watching INBOX_DIR=$$INBOX_DIR"; $(PY) manage.py watch_inbox & \
	fi; \
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

worker: install
	$(BIN)/celery -A config worker -B --loglevel=INFO

## make test: the whole suite on SQLite, then again on PostgreSQL with Redis and a real Celery worker
test: install
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

PYTEST := $(BIN)/pytest -p no:cacheprovider

test-sqlite: install
	$(PYTEST) -n 2 -m "not integration"

test-postgres: install
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && $(PY) -c "import redis,sys; redis.Redis.from_url('$(REDIS_URL)').ping()" 2>/dev/null; then \
	  DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) $(PYTEST) -n 2 -m "not integration" && \
	  DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) $(PYTEST) -m integration; \
	elif [ -n "$$REQUIRE_SERVICES" ]; then \
	  echo "PostgreSQL or Redis does not answer, and REQUIRE_SERVICES is set"; exit 1; \
	else \
	  echo "PostgreSQL or Redis does not answer: skipping the PostgreSQL + Redis run"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy config denials ncci appeals

## make bench: every benchmark on PostgreSQL (each in a database of its own); prints figures
bench: install
	$(PY) bench/ingest.py
	$(PY) bench/ncci.py
	$(PY) bench/triage.py
	$(PY) bench/pages.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
