# chiso — the two commands: `make demo` and `make test`. Each creates its own virtual environment.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
WORKSPACE ?= chiso-data
DEMO_DIR  ?= demo-data

.PHONY: demo test setup lint bench clean

$(BIN)/chiso: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/chiso

setup: $(BIN)/chiso

demo: setup
	rm -rf $(DEMO_DIR) $(WORKSPACE)
	$(BIN)/chiso --workspace $(WORKSPACE) units init --province "Sơn La"
	$(BIN)/chiso generate --province "Sơn La" --from 2025-07 --to 2025-09 --seed 1 --out $(DEMO_DIR)
	$(BIN)/chiso --workspace $(WORKSPACE) load $(DEMO_DIR)/*
	$(BIN)/chiso --workspace $(WORKSPACE) status --as-of "2025-09-30 17:00" --by-unit --format table
	$(BIN)/chiso --workspace $(WORKSPACE) score --period 2025-09 --level province --as-of "2025-09-30 17:00"
	$(BIN)/chiso --workspace $(WORKSPACE) score --period 2025-09 --level department --as-of "2025-09-30 17:00"
	$(BIN)/chiso --workspace $(WORKSPACE) score --period 2025-09 --level commune --as-of "2025-09-30 17:00"

test: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/run.py status
	$(BIN)/python benchmarks/run.py score

clean:
	rm -rf $(VENV) $(WORKSPACE) $(DEMO_DIR)
