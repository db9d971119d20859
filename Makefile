# Two commands do all the set-up: `make run` and `make test` (see README.md).
# Python 3.11 or newer; another one with `make PYTHON=python3.12 run`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test lint format test-servers clean

# The virtual environment, rebuilt when the dependencies change.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed; $(PYTHON) is older (set PYTHON=...)." >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV) \
		|| { echo "$(PYTHON) -m venv failed: install the venv module (e.g. apt-get install python3-venv)." >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# A developer's portal: debug pages and static files straight from the source folders,
# unless DEBUG is set otherwise in the environment. Production never runs this target.
run: export DEBUG ?= true
run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	$(BIN)/python manage.py load_demo_data --url http://127.0.0.1:$(PORT)/
	@echo "Starting web, worker and beat; Ctrl-C stops all three."
	exec $(BIN)/honcho start --procfile Procfile.dev --port $(PORT)

test-servers:
	bash scripts/install-test-servers.sh

test: $(VENV)/.installed test-servers
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
