# Two commands on a fresh Debian/Ubuntu machine with Python 3.11:
#   make run    the portal with demo data at http://127.0.0.1:8000 (SQLite, no broker)
#   make test   everything the tests need, then the whole suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: run test lint install install-dev system-deps messages bench lock clean

run: install
	DEMO_MODE=true $(PY) manage.py migrate --noinput
	DEMO_MODE=true $(PY) manage.py load_demo
	@if [ -n "$(SSO_DEV_PROVIDER)" ]; then DEMO_MODE=true $(PY) manage.py load_demo_sso; fi
	@# Without DEBUG, as in production: the portal's own 403/404/500 pages, static files from WhiteNoise.
	DEMO_MODE=true bash scripts/oidc/with-provider.sh $(PY) manage.py runserver $(HOST)

test: system-deps install-dev
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

# Every package is pinned with its hash: a substituted or tampered download fails the install.
$(VENV)/.installed: requirements/base.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements/base.txt
	touch $@

$(VENV)/.installed-dev: requirements/dev.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --require-hashes -r requirements/dev.txt
	touch $(VENV)/.installed $@

# Chromium for the browser tests, and the libraries WeasyPrint renders with.
system-deps:
	bash scripts/system-deps.sh

# Refresh the Danish translation after changing user-facing strings.
messages: install-dev
	$(PY) manage.py makemessages --locale da --no-location --ignore '$(VENV)/*'
	$(PY) manage.py compilemessages --locale da --ignore '$(VENV)/*'

bench: install-dev
	$(PY) bench/order_list.py
	$(PY) bench/payroll.py
	$(PY) bench/robot.py
	$(PY) bench/filing.py
	$(PY) bench/sso_login.py
	$(PY) bench/hostile.py
	$(PY) bench/hr_import.py
	$(PY) bench/statistics_page.py --orders 20000

# Regenerate the lock files after changing pyproject.toml (needs uv: pip install uv).
lock:
	uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements/base.txt
	uv pip compile pyproject.toml --python-version 3.11 --extra dev --generate-hashes -o requirements/dev.txt

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
