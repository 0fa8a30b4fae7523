# Overturn: the commands the README names.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run`, `make demo`, `make worker` are for development: DEBUG=1 unless set otherwise
# (with DEBUG=1 and no SECRET_KEY the committed development key is used, and says so).
# `make serve` and `make serve-worker` are for production: DEBUG stays off, SECRET_KEY is required.
WORKER_CONCURRENCY ?= 2
# The Celery worker's CPU niceness: ingests and refreshes yield the CPU to people's requests.
WORKER_NICE ?= 10
# idle: the worker also runs in Linux's SCHED_IDLE class (chrt --idle): it gets only CPU time no
# request wants, and a request that wakes takes the CPU from it at once. Not the default: in the
# load test its gain was within the run-to-run noise (README, Load), and a worker in that class
# can starve while people keep both cores busy. normal: niceness only. Without chrt, niceness only.
WORKER_SCHED ?= normal
WORKER_PRIORITY = $(if $(and $(filter idle,$(WORKER_SCHED)),$(shell command -v chrt)),chrt --idle 0 )nice -n $(WORKER_NICE)
# The PostgreSQL + Redis run of `make test` (CI sets these services up; see .ci/run).
PG_URL ?= postgres://postgres@127.0.0.1:5432/overturn
REDIS_URL ?= redis://127.0.0.1:6379/14

.PHONY: run install migrate demo serve serve-worker worker beat test test-sqlite test-postgres faults lint typecheck bench bench-analytics loadtest clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --no-input

demo: migrate
	DEBUG=$${DEBUG:-1} $(PY) manage.py load_demo
	DEBUG=$${DEBUG:-1} $(PY) manage.py load_demo_appeals

## make run: install, migrate, load codes and the demo data set, then serve on http://127.0.0.1:8000
run: demo
	@export DEBUG=$${DEBUG:-1}; \
	if [ -n "$$CELERY_BROKER_URL" ]; then \
	  echo "Broker configured: starting a Celery worker (with beat) beside the web app"; \
	  $(BIN)/celery -A config worker -B --loglevel=INFO --concurrency=2 & \
	fi; \
	if [ -n "$$INBOX_DIR" ] && [ -z "$$CELERY_BROKER_URL" ]; then \
	  echo "Watching INBOX_DIR=$$INBOX_DIR"; $(PY) manage.py watch_inbox & \
	fi; \
	$(PY) manage.py runserver $(HOST):$(PORT)

worker: install
	DEBUG=$${DEBUG:-1} $(BIN)/celery -A config worker -B --loglevel=INFO

## make serve: production on one machine: migrate, collectstatic, then gunicorn (WhiteNoise serves
## static files) beside a Celery worker and Celery beat. Needs SECRET_KEY, ALLOWED_HOSTS,
## DATABASE_URL and CELERY_BROKER_URL; see "Running in production" in the README.
serve: install
	@if [ -z "$$DATABASE_URL" ] || [ -z "$$CELERY_BROKER_URL" ]; then \
	  echo "make serve runs production: set DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis)"; exit 1; \
	fi
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	@trap 'kill $$(jobs -p) 2>/dev/null; wait' EXIT INT TERM; \
	$(WORKER_PRIORITY) $(BIN)/celery -A config worker --loglevel=INFO --concurrency=$(WORKER_CONCURRENCY) & \
	$(BIN)/celery -A config beat --loglevel=INFO --schedule=var/celerybeat-schedule & \
	$(BIN)/gunicorn config.wsgi:application --config config/gunicorn.py --bind $(HOST):$(PORT)

## make serve-worker: production, another machine: one more Celery worker on the same broker and database
serve-worker: install
	$(WORKER_PRIORITY) $(BIN)/celery -A config worker --loglevel=INFO --concurrency=$(WORKER_CONCURRENCY)

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

## make faults: the fault trials at full strength on PostgreSQL + Redis with real workers: 20 random
## kills of the pool mid-file, Redis restarted with files queued, upload and inbox racing, two workers,
## 200 races of two people saving one denial or deciding one appeal; prints its figures
faults: install
	DATABASE_URL=$(PG_URL) CELERY_BROKER_URL=$(REDIS_URL) FAULT_TRIALS=$${FAULT_TRIALS:-20} \
	  $(PYTEST) -s -m integration tests/integration/test_faults.py tests/integration/test_concurrent_saves.py \
	  tests/integration/test_worker_crash.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	DEBUG=$${DEBUG:-1} $(BIN)/mypy config denials ncci appeals

## make bench: every benchmark on PostgreSQL (each in a database of its own); prints figures
bench: export SECRET_KEY ?= overturn-benchmark-only-key-not-a-secret-0123456789abcdef
bench: install
	$(PY) bench/ingest.py
	$(PY) bench/ncci.py
	$(PY) bench/triage.py
	$(PY) bench/pages.py
	$(PY) bench/appeals.py

## The dashboard at 1,000,000 denials and 200,000 appeals: a 6-minute load, then long runs
bench-analytics: export SECRET_KEY ?= overturn-benchmark-only-key-not-a-secret-0123456789abcdef
bench-analytics: install
	$(PY) bench/analytics.py --keep

## make loadtest: 50 coders and 5 managers (locust) on gunicorn + PostgreSQL for 5 minutes, then 5 more
## while 20,000-claim 835s ingest through a Celery worker (Redis db 3); 100,000 denials; prints its figures.
## PostgreSQL: a server of its own with the README's production settings (bench/load/postgres.py,
## 127.0.0.1:5433), or LOADTEST_POSTGRES=postgres://user@host:port for another one.
LOADTEST_POSTGRES ?=
loadtest: install
	@$(PY) -c "import redis; redis.Redis.from_url('redis://127.0.0.1:6379/3').ping()" 2>/dev/null || { echo "make loadtest needs Redis on 127.0.0.1:6379"; exit 1; }
	$(BIN)/pip install --quiet -r requirements-load.txt
	@url="$(LOADTEST_POSTGRES)"; [ -n "$$url" ] || url=$$($(PY) bench/load/postgres.py start) || exit 1; \
	echo "BENCH_POSTGRES=$$url $(PY) bench/load/run.py --keep"; BENCH_POSTGRES=$$url $(PY) bench/load/run.py --keep

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
