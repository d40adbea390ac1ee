# The two commands of the README's Quick start: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the tests start for real: Dovecot (IMAP, LMTP), Postfix and a private PostgreSQL server
# (the whole loop and the fault tests), Chromium that Playwright drives, and LibreOffice Writer, which
# proves the exported synthesis (DOCX) opens by converting it to PDF.
TEST_PACKAGES := dovecot-imapd dovecot-lmtpd chromium postfix postgresql libreoffice-writer
# axe-core for the browser tests' accessibility checks, from npm, pinned by its package-lock.json.
AXE := tests/browser/node_modules/axe-core/axe.min.js

.PHONY: run test lint messages check-migrations system-packages clean

$(BIN)/nhomthu: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/nhomthu  ## the whole system on SQLite, a local mail folder and demo data: http://127.0.0.1:5000
	$(BIN)/nhomthu init --demo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

system-packages:  ## as root: install what the tests start for real, and npm (no-op when present)
	@if [ "$$(id -u)" = 0 ]; then \
		missing=$$(for package in $(TEST_PACKAGES); do \
			[ "$$(dpkg-query -W -f='$${db:Status-Status}' $$package 2>/dev/null)" = installed ] || echo $$package; \
		done; command -v npm >/dev/null || echo npm); \
		if [ -n "$$missing" ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		fi; \
	fi

$(AXE): tests/browser/package-lock.json | system-packages
	npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
	touch $@

lint: $(BIN)/nhomthu
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

CATALOGUE := forum/translations
messages: $(BIN)/nhomthu  ## after marking texts with _(): extract them, merge into the English catalogue, compile
	$(BIN)/pybabel extract -F babel.cfg --sort-by-file --project nhomthu --version 0.1.0 \
		--copyright-holder "the nhomthu authors" -o $(CATALOGUE)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOGUE)/messages.pot -d $(CATALOGUE) --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(CATALOGUE) --statistics

test: $(BIN)/nhomthu system-packages $(AXE) lint  ## installs what the tests need, then runs them all
	$(BIN)/pytest

clean:
	rm -rf $(VENV) var
