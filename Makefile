# The two commands: `make run` serves the app, `make test` runs the tests.
# Both create the virtual environment and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
# `make run PORT=8080` or `PORT=8080 make run`
PORT ?= 5000
# The browser tests drive Debian's Chromium by path; Playwright downloads no browser.
CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH

.PHONY: run test lint security browser-test screenshots bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

chromium:
	@if [ ! -x "$(CHROMIUM_PATH)" ]; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null \
	    || { echo "Could not install chromium: install Debian's chromium package, or set CHROMIUM_PATH"; exit 1; }; \
	fi

# The server replaces the recipe's shell (exec), so the SIGTERM make passes on to
# its child reaches the server itself, which then stops the embedded Redis.
run: $(VENV)/.installed-runtime
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	exec $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.installed-dev chromium
	$(BIN)/python -m pytest --cov --cov-report=term $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check respite tests bench scripts app.py wsgi.py gunicorn.conf.py
	$(BIN)/mypy
	$(BIN)/python scripts/vendor_assets.py --check

# No medium or high finding from bandit; the installed packages audited for known vulnerabilities
# where a vulnerability database answers ("dependency audit skipped: <why>" where none does).
security: $(VENV)/.installed-dev
	$(BIN)/bandit --quiet --severity-level medium --recursive respite scripts app.py wsgi.py gunicorn.conf.py
	$(BIN)/python scripts/dependency_audit.py

browser-test: $(VENV)/.installed-dev chromium
	$(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

# The pictures in docs/screenshots/ (test runs save theirs to test-results/screenshots/).
screenshots: $(VENV)/.installed-dev chromium
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/sse_streams.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .coverage
