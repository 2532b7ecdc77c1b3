# Two commands: `make run` starts the product on its embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test test-fast lint lock install install-dev translations translations-update chromium bench clean

run: $(VENV)/.installed .env translations
	$(BIN)/python -m app.devserver

test: $(VENV)/.installed-dev .env translations chromium lint
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# The quick loop while working: everything but browser tests, server processes and fuzzing.
test-fast: $(VENV)/.installed-dev .env translations
	$(BIN)/python -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

# Style (ruff), the architecture (which parts may import which) and types (mypy); the import
# contracts and mypy's settings are in pyproject.toml.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Installs come from the lock files: every package, direct or not, at one version with its hashes.
$(VENV)/.installed: requirements-embedded.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-embedded.lock
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# After changing a requirements*.txt: production's lock first, each next one constrained by it,
# so the three agree on every package they share.
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock: $(VENV)/.installed-dev
	$(PIP_COMPILE) -o requirements.lock requirements.txt
	$(PIP_COMPILE) -c requirements.lock -o requirements-embedded.lock requirements-embedded.txt
	$(PIP_COMPILE) -c requirements-embedded.lock -o requirements-dev.lock requirements-dev.txt

# The patient's pages in each language: the catalogues (.po) are kept in git, compiled here.
CATALOGUES := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
translations: $(CATALOGUES:.po=.mo)

%.mo: %.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

# After wrapping new words in _() on a patient's page: gather them and add them to each catalogue.
translations-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F pyproject.toml -k lazy_gettext --omit-header --no-location --sort-output -o app/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i app/translations/messages.pot -d app/translations
	rm app/translations/messages.pot

# A local .env with a random SECRET_KEY, made once from the documented example.
.env: | .env.example
	sed "s/^SECRET_KEY=.*/SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(32))')/" .env.example > $@
	chmod 600 $@

# Browser tests drive Debian's Chromium. Install it when we can; otherwise say so plainly
# (the browser tests then skip, except in CI where they must run).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Chromium for the browser tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  fi; }
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$CI" = true ]; then echo "Chromium is required in CI and could not be installed"; exit 1; fi; \
	  echo "NOTE: Chromium is not installed and could not be installed here: the browser tests will be SKIPPED."; }

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/delivery.py

clean:
	rm -rf $(VENV) instance .pytest_cache
