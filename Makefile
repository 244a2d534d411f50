# Lanebridge: `make run` serves the product, `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export LANEBRIDGE_VAR ?= $(CURDIR)/var

.PHONY: run test setup venv assets lint check clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

assets: venv
	@if [ -f package.json ]; then npm ci --no-audit --no-fund --silent && $(PY) manage.py install_assets; fi
	@if [ -d locale ]; then $(PY) manage.py compilemessages -v0 --ignore=.venv --ignore=node_modules; fi

setup: venv assets
	$(PY) manage.py migrate -v0

run: export LANEBRIDGE_DEMO = 1
run: setup
	$(PY) manage.py setup_demo
	$(PY) manage.py serve --erp --addr 127.0.0.1:8000

test: venv assets
	$(PY) manage.py makemigrations --check --dry-run -v0
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -m "not scaled" $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var node_modules static/vendor
