# The two commands: `make run` serves the app, `make test` runs the tests.
# Both create the virtual environment and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app

.PHONY: run test lint browser-test bench clean

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

run: $(VENV)/.installed-runtime
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(FLASK) run --host 127.0.0.1 --port 5000

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest --cov --cov-report=term $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check respite tests bench scripts app.py wsgi.py gunicorn.conf.py
	$(BIN)/python scripts/vendor_assets.py --check

browser-test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest tests/browser $(PYTEST_ARGS)

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/sse_streams.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache .coverage
