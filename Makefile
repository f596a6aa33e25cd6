# chiso — the two commands: `make demo` and `make test`. Each creates its own virtual environment.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
WORKSPACE ?= chiso-data
DEMO_DIR  ?= demo-data

.PHONY: demo test setup spark system-packages lint bench clean images serve

# Debian packages for PDF copies of the documents (LibreOffice Writer) and page pictures (pdftoppm), with
# metric-compatible Times New Roman (Liberation). Installed once when missing; needs root or sudo.
DEBIAN_PACKAGES := libreoffice-writer-nogui poppler-utils fonts-liberation2 chromium

system-packages:
	@if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null || ! command -v chromium >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends $(DEBIAN_PACKAGES) >/dev/null || \
	  echo "Không cài được $(DEBIAN_PACKAGES): văn bản vẫn được xuất .docx/.xlsx, không có PDF."; \
	fi

$(BIN)/chiso: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/chiso

setup: system-packages $(BIN)/chiso

# The optional Spark engine (docs/scale.md): PySpark and SQLGlot from PyPI, Java 17 from Debian when missing.
# Not needed by the default path (DuckDB); the tests compare Spark with it, so `make test` installs it.
$(VENV)/.spark: $(BIN)/chiso
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	@if ! command -v java >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	    --no-install-recommends openjdk-17-jre-headless >/dev/null || \
	  echo "Không cài được openjdk-17-jre-headless: máy tính toán Spark không chạy được."; \
	fi
	touch $@

spark: setup $(VENV)/.spark

demo: setup
	rm -rf $(DEMO_DIR) $(WORKSPACE)
	$(BIN)/chiso --workspace $(WORKSPACE) units init --province "Sơn La"
	$(BIN)/chiso generate --province "Sơn La" --from 2025-07 --to 2025-09 --seed 1 --out $(DEMO_DIR)
	$(BIN)/chiso --workspace $(WORKSPACE) load $(DEMO_DIR)/*
	$(BIN)/chiso --workspace $(WORKSPACE) status --as-of "2025-09-30 17:00" --by-unit --format table
	$(BIN)/chiso --workspace $(WORKSPACE) score --period 2025-09 --level province --as-of "2025-09-30 17:00"
	$(BIN)/chiso --workspace $(WORKSPACE) score --period 2025-09 --level department --as-of "2025-09-30 17:00"
	$(BIN)/chiso --workspace $(WORKSPACE) score --period 2025-09 --level commune --as-of "2025-09-30 17:00"
	$(BIN)/chiso --workspace $(WORKSPACE) report all --period 2025-09 --as-of "2025-10-05 10:00" \
	  --date 2025-10-06 --out $(WORKSPACE)/van-ban

# The web service on the demo workspace (built when missing), with an admin account whose password is printed.
serve: setup
	@if [ ! -f $(WORKSPACE)/chiso.duckdb ]; then \
	  $(BIN)/chiso --workspace $(WORKSPACE) units init --province "Sơn La" && \
	  $(BIN)/chiso generate --province "Sơn La" --from 2025-07 --to 2025-09 --seed 1 --out $(DEMO_DIR) && \
	  $(BIN)/chiso --workspace $(WORKSPACE) load $(DEMO_DIR)/* && \
	  $(BIN)/chiso --workspace $(WORKSPACE) publish --period 2025-09 --as-of "2025-10-05 10:00"; \
	fi
	$(BIN)/chiso --workspace $(WORKSPACE) serve --demo-admin --host 127.0.0.1 --port 8000 --as-of "2025-09-30 17:00"

test: setup $(VENV)/.spark
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto --dist loadfile

bench: setup
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py status
	$(BIN)/python benchmarks/run.py score
	$(BIN)/python benchmarks/run.py reports

# Pictures of the first page of each document for the README (docs/images), from the demo workspace.
images: setup
	$(BIN)/python tools/render_images.py $(WORKSPACE) docs/images

clean:
	rm -rf $(VENV) $(WORKSPACE) $(DEMO_DIR)
