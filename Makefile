# The portal's commands. `make run` and `make test` work from a fresh clone: they create .venv and install the pins.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BASE_STAMP := $(VENV)/.base-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test lint format lock clean bench bench-peer soak

$(BASE_STAMP): requirements/base.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/base.txt
	touch $@

$(DEV_STAMP): $(BASE_STAMP) requirements/dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	touch $@

## run: the portal with web, Celery worker and beat in the foreground (Ctrl-C stops all three).
## Without DATABASE_URL/REDIS_URL it uses SQLite and Celery's filesystem transport under var/.
run: $(BASE_STAMP)
	scripts/run.sh

## test: lint, types, import layers, Django checks, then the whole pytest suite on PostgreSQL and Redis.
test lint: export DATABASE_URL := $(or $(TEST_DATABASE_URL),postgres://postgres@127.0.0.1:5432/walt_portal)
test lint: export REDIS_URL := $(or $(TEST_REDIS_URL),redis://127.0.0.1:6379/1)
test lint: export CELERY_BROKER_URL := $(or $(TEST_REDIS_URL),redis://127.0.0.1:6379/1)
test lint: export DJANGO_DEBUG := false
test lint: export DJANGO_SECRET_KEY := test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz
test lint: export DJANGO_ALLOWED_HOSTS := testserver,localhost,127.0.0.1
test lint: export DJANGO_HTTPS := false
test lint: export DJANGO_MANIFEST_STATIC := false
test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_services.py
	$(BIN)/python manage.py check --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: $(DEV_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: seed the bench database, serve the portal with gunicorn and measure it (docs/performance.md).
## Not part of `make test`. Options go in BENCH_ARGS, e.g. make bench BENCH_ARGS="--scale full".
bench: $(BASE_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

## soak: ten minutes of mixed load (customers, engineers, alerts, the sweeper) against gunicorn, a Celery worker and
## beat; fails on any error, a process whose memory grows > 10 % or a p95 over its target (docs/performance.md).
## Options go in SOAK_ARGS.
soak: $(BASE_STAMP)
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

## bench-peer: the portal and django-helpdesk 2.6 side by side (docs/performance.md). The peer is installed into its
## own virtualenv, var/peer-venv, from bench/peer/requirements.txt. Options go in BENCH_PEER_ARGS.
PEER_VENV := var/peer-venv
PEER_STAMP := $(PEER_VENV)/.installed

$(PEER_STAMP): bench/peer/requirements.txt
	test -x $(PEER_VENV)/bin/python || $(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/peer/requirements.txt
	touch $@

bench-peer: $(BASE_STAMP) $(PEER_STAMP)
	$(BIN)/python -m bench.peer --peer-python $(PEER_VENV)/bin/python $(BENCH_PEER_ARGS)

## lock: re-resolve requirements/*.in into the pinned requirements/*.txt in a throwaway virtualenv.
lock:
	scripts/lock.sh

clean:
	rm -rf var/celery var/cache var/staticfiles
