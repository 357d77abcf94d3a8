# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
WORKERS ?= 2
# pytest-xdist processes for `make test` (auto: one per CPU); each test file runs whole in one process.
TEST_WORKERS ?= auto
export FLASK_APP := wsgi

.PHONY: run test install install-dev migrate seed clean translations-update

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

CATALOGS := $(wildcard platform/hall/translations/*/LC_MESSAGES/messages.po)

# The console's translations are compiled by the build (the .mo files are not committed).
$(VENV)/.translations: $(VENV)/.installed $(CATALOGS)
	$(BIN)/pybabel compile --statistics -d platform/hall/translations
	touch $@

translations-update: install  ## extract new strings from code and templates into the catalogs
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o platform/hall/translations/messages.pot .
	$(BIN)/pybabel update -i platform/hall/translations/messages.pot -d platform/hall/translations

$(VENV)/.installed-dev: $(VENV)/.installed $(VENV)/.translations requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed $(VENV)/.translations

install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask hall seed-demo --if-empty

# gunicorn 27 opens a control socket at one path per user (~/.gunicorn/gunicorn.ctl) by default: concurrent runs
# would take it from each other. Each run gets its own, per port (`gunicornc -s instance/gunicorn-8000.ctl`).
run: seed
	@if [ -f instance/demo-credentials.txt ]; then echo "Demo accounts:"; cat instance/demo-credentials.txt; fi
	@echo "Serving on http://127.0.0.1:$(PORT)  (API docs: http://127.0.0.1:$(PORT)/api/v1/docs)"
	@mkdir -p instance
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers $(WORKERS) --access-logfile - \
		--control-socket instance/gunicorn-$(PORT).ctl wsgi:app

test: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) *.egg-info build
