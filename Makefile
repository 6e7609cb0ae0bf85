# The two commands of the README: `make run` and `make test`. `make bench` runs the benchmarks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench lint install

$(BIN)/cadency: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/cadency

run: install
	mkdir -p var
	$(BIN)/cadency init
	$(BIN)/cadency run

lint: install
	$(BIN)/ruff check src tests bench clients fuzz
	$(BIN)/ruff format --check src tests bench clients fuzz
	$(BIN)/mypy src clients/build.py clients/icons.py fuzz

test: install
	scripts/test.sh

bench: install
	scripts/bench.sh

# Try it: the local mail servers, a demo rep, contacts and a sequence, and buttons
# that answer as a contact (see README "Try the demo"). Needs root, like `make test`.
.PHONY: demo
demo: install
	scripts/services/install.sh
	mkdir -p var
	$(BIN)/cadency demo

# The mail clients for one Cadency (docs/mail-clients.md): the Gmail extension
# (var/dist/cadency-gmail.zip, unpacked in var/dist/gmail/) and the Outlook add-in
# (var/dist/outlook/). `make extensions CADENCY_BASE_URL=https://cadency.example.com`
.PHONY: extensions
extensions:
	$(PYTHON) clients/build.py --out var/dist $(if $(CADENCY_BASE_URL),--base-url $(CADENCY_BASE_URL))
