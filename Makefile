# Lanebridge: `make run` serves the product, `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export LANEBRIDGE_VAR ?= $(CURDIR)/var

.PHONY: run test setup venv assets lint check clean ldap-server

# python-ldap (LDAP sign-on) has no wheels: it builds against OpenLDAP's and SASL's C headers.
LDAP_HEADERS := libldap2-dev libsasl2-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@if [ ! -f /usr/include/ldap.h ] || [ ! -f /usr/include/sasl/sasl.h ]; then \
	  echo "Installing $(LDAP_HEADERS) for python-ldap"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(LDAP_HEADERS) >/dev/null; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

assets: venv
	@if [ -f package.json ]; then npm ci --no-audit --no-fund --silent && npm run build --silent && $(PY) manage.py install_assets; fi
	@if [ -d locale ]; then $(PY) manage.py compilemessages -v0 --ignore=.venv --ignore=node_modules; fi

setup: venv assets
	$(PY) manage.py migrate -v0

run: export LANEBRIDGE_DEMO = 1
run: setup
	$(PY) manage.py setup_demo
	$(PY) manage.py serve --erp --addr 127.0.0.1:8000

# The LDAP sign-on tests start their own OpenLDAP server from Debian's slapd.
ldap-server:
	@[ -x /usr/sbin/slapd ] || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slapd ldap-utils >/dev/null; }

test: venv assets ldap-server
	$(PY) manage.py makemigrations --check --dry-run -v0
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -m "not scaled" $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var node_modules static/vendor
