# Two commands do all the set-up on a machine with Python 3.11:
#   make run    environment, database, demo data, admin login, server on http://127.0.0.1:8000/admin/
#   make test   the whole test suite (DATABASE_URL=postgres://... runs it on PostgreSQL)
#   make reset  start the demo afresh: empty the database and forget the emulator's kept account

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint reset

$(VENV)/installed: requirements.txt requirements-dev.txt
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/installed
	HOST=$(HOST) PORT=$(PORT) bash scripts/run.sh

test: $(VENV)/installed
	$(PY) -m pytest

lint: $(VENV)/installed
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

# The demo's reset, with the demo's settings (DEBUG on, as run.sh): all or nothing, refused while make run serves.
reset: $(VENV)/installed
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py reset_demo
