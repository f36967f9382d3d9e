# Development entry points. Set-up happens once, through file stamps.
# Works non-interactively (CI=true, no TTY).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

PYTHON ?= python3
VENV := .venv
VENV_MONGO := .venv-mongo
SECANTUSDB_VERSION := 0.7.0b3
# GraphiQL's browser files, served by the API in development: npm ci from the committed lock
GRAPHIQL := graphiql
NPM_FLAGS := --no-audit --no-fund --ignore-scripts --loglevel=error
PIP_FLAGS := --quiet --disable-pip-version-check
# bench/ may not exist yet: only the folders that do.
LINT_PATHS := $(wildcard src tests bench)
TYPED_EXTRAS := $(wildcard tests bench)

# Run apt-get as root, or through sudo when it exists.
SUDO := $(shell if [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then echo sudo; fi)

# $(call apt_install,COMMAND,PACKAGES): Debian's PACKAGES, installed when COMMAND is missing
define apt_install
@command -v $(1) >/dev/null 2>&1 || { \
  echo "$(1) not found: installing $(2) with apt-get"; \
  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2); \
}
endef

.PHONY: setup run test lint typecheck importlint pytest bench clean redis-check npm-check \
  chromium-check

setup: $(VENV)/.installed $(VENV_MONGO)/.installed $(GRAPHIQL)/node_modules/.installed \
  redis-check chromium-check

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install $(PIP_FLAGS) -c constraints.txt -e '.[dev]'
	touch $@

$(VENV_MONGO)/.installed:
	test -x $(VENV_MONGO)/bin/python || $(PYTHON) -m venv $(VENV_MONGO)
	$(VENV_MONGO)/bin/python -m pip install $(PIP_FLAGS) 'SecantusDB==$(SECANTUSDB_VERSION)'
	touch $@

$(GRAPHIQL)/node_modules/.installed: $(GRAPHIQL)/package.json $(GRAPHIQL)/package-lock.json \
  | npm-check
	cd $(GRAPHIQL) && npm ci $(NPM_FLAGS)
	touch $@

redis-check:
	$(call apt_install,redis-server,redis-server)

npm-check:
	$(call apt_install,npm,nodejs npm)

# the browser of the GraphiQL tests (tests/e2e), driven by Playwright
chromium-check:
	$(call apt_install,chromium,chromium)

run: setup
	$(VENV)/bin/marketing-contacts dev

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy $(TYPED_EXTRAS)

importlint: $(VENV)/.installed
	$(VENV)/bin/lint-imports

# The index guard judges the query shapes the suites before it recorded: a session after them.
pytest: setup
	$(VENV)/bin/pytest tests/unit tests/contract tests/integration tests/e2e
	$(VENV)/bin/pytest tests/guard

test: lint typecheck importlint pytest

bench: setup
	@shopt -s nullglob; scripts=(bench/*.py); \
	if [ $${#scripts[@]} -eq 0 ]; then echo "no benchmarks in bench/"; fi; \
	for script in "$${scripts[@]}"; do \
	  echo "== $$script"; \
	  $(VENV)/bin/python "$$script"; \
	done

clean:
	rm -rf $(VENV) $(VENV_MONGO) $(GRAPHIQL)/node_modules build dist .mypy_cache .ruff_cache .pytest_cache .hypothesis \
	  .import_linter_cache
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
	find . -name '*.egg-info' -type d -prune -not -path './.git/*' -exec rm -rf {} +
