# Two commands on a fresh machine: `make run` and `make test`. Everything else is bootstrapped here.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: run test bench model clean

$(READY): requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(READY)

run: $(READY)
	$(BIN)/python -m devtools.run

test: $(READY)
	$(BIN)/python -m pytest

model: $(READY)  # the crisis model, from understanding/corpus (reproducible)
	$(BIN)/python -m understanding.build

bench: $(READY)
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) var .pytest_cache
