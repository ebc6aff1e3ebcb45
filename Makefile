# Two commands: `make run` (dashboard with demo data on the embedded SQLite file) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run serve test lint bench audit

run: $(VENV)/.runtime
	$(BIN)/python app.py

# Production-style: migrate, then gunicorn with WORKERS processes (set DATABASE_URL, CACHE_URL, SECRET_KEY...).
WORKERS ?= 4
serve: $(VENV)/.runtime
	$(BIN)/flask --app app:server init-db
	$(BIN)/gunicorn --workers $(WORKERS) --threads 4 --keep-alive 10 --bind $${HOST:-127.0.0.1}:$${PORT:-8050} app:server

test: $(VENV)/.dev
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Security checks CI runs after the tests: bandit on the code, pip-audit on the installed packages
# (which fails with exit 3, NOT CHECKED, when no vulnerability database can be reached).
audit: $(VENV)/.dev
	$(BIN)/bandit -c pyproject.toml -r . -q
	$(BIN)/python tools/audit_dependencies.py

bench: $(VENV)/.dev
	$(BIN)/python bench/ingest.py

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@
