# Two commands: `make run` (set up + serve the embedded default) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# 1EdTech's OB 2.0 validator, for the tests, in its own virtualenv (its pins clash with ours).
OB2V := $(VENV)/ob2-validator
OB2V_STAMP := $(OB2V)/.installed
# The Digital Credentials Consortium's verifier (npm, exact versions in its package-lock.json),
# run with node by tests/badges/test_dcc_verifier.py.
DCC := tests/js/dcc
DCC_STAMP := $(DCC)/node_modules/.installed

.PHONY: run test lint format migrate seed worker clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changes.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

$(OB2V_STAMP): requirements/ob2-validator.txt | $(PY)
	$(PYTHON) -m venv $(OB2V)
	$(OB2V)/bin/pip install --quiet --no-deps -r requirements/ob2-validator.txt
	@touch $(OB2V_STAMP)

$(DCC_STAMP): $(DCC)/package.json $(DCC)/package-lock.json
	@command -v npm >/dev/null || { echo "npm (node) is required for the DCC verifier tests"; exit 1; }
	cd $(DCC) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $(DCC_STAMP)

# `make run PORT=8080` serves on another port (links and Open Badges ids follow, via SITE_URL).
PORT ?= 8000
run: export SITE_URL ?= http://127.0.0.1:$(PORT)
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	@# With DEBUG off, pages link hashed static files from STATIC_ROOT's manifest: collect them.
	@if $(PY) -c 'import sys; from badgeplatform.settings import DEBUG; sys.exit(DEBUG)'; then \
	  echo "$(PY) manage.py collectstatic --noinput" && $(PY) manage.py collectstatic --noinput -v0; fi
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# The suite runs in parallel on every core (pytest-xdist); the browser tests then run one at a
# time, since two Chromiums and two live servers on a 2-core machine are slow to the point of
# flakiness. PYTEST_ARGS adds to both passes; the run fails if either does.
test: $(STAMP) $(OB2V_STAMP) $(DCC_STAMP)
	$(PY) -m pytest -n auto -m "not browser" $(PYTEST_ARGS)
	$(PY) -m pytest -m browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: $(STAMP)
	$(VENV)/bin/celery -A badgeplatform worker -B -Q celery,signing --loglevel=info

clean:
	rm -rf $(VENV) var $(DCC)/node_modules
