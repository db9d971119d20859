# Two commands do all the set-up: `make run` and `make test` (see README.md).
# Python 3.11 or newer; another one with `make PYTHON=python3.12 run`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint format test-servers clean

# The virtual environment with what running the portal needs, rebuilt when the dependencies
# change; the test tools (pytest, Playwright, ruff...) come only with `make test` and `make lint`.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed; $(PYTHON) is older (set PYTHON=...)." >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV) \
		|| { echo "$(PYTHON) -m venv failed: install the venv module (e.g. apt-get install python3-venv)." >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# A developer's portal: debug pages and static files straight from the source folders,
# unless DEBUG is set otherwise in the environment. Production never runs this target.
# Emails go to files in var/mail/ (one per sending), links in them to this very portal.
run: export DEBUG ?= true
run: export PORTAL_BASE_URL ?= http://127.0.0.1:$(PORT)
run: export EMAIL_BACKEND ?= django.core.mail.backends.filebased.EmailBackend
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/python manage.py load_demo_data --url $(PORTAL_BASE_URL)/
	@echo "  Emails:             written to var/mail/ (EMAIL_BACKEND=$(EMAIL_BACKEND))"
	@echo "Starting web, worker and beat; Ctrl-C stops all three."
	@# Ctrl-C is how this ends: honcho's 130 for it is no error of make's.
	@$(BIN)/honcho start --procfile Procfile.dev --port $(PORT); status=$$?; \
		if [ $$status -eq 130 ]; then echo "Stopped."; else exit $$status; fi

test-servers:
	bash scripts/install-test-servers.sh

test: $(VENV)/.installed-test test-servers
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
