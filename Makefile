# Two entry points for a fresh machine (see README.md):
#   make run    executes every notebook in order on the built-in data (papermill)
#   make test   runs the test suite, notebooks included (pytest + nbval)
# Both create the virtual environment .venv on first use and reuse it afterwards; it is
# rebuilt when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test quick lint benchmark clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	$(PY) -c "import torch, torchvision; print('torch', torch.__version__, '| torchvision', torchvision.__version__)"
	@touch $(STAMP)

## run: execute every notebook on the built-in data; executed copies and results go to runs/<stamp>/
run: $(STAMP)
	$(PY) scripts/run_notebooks.py $(ARGS)

## quick: the same in quick mode (what the tests execute), for a fast look
quick: $(STAMP)
	$(PY) scripts/run_notebooks.py --quick $(ARGS)

## test: unit tests, notebook format checks, ruff, and every notebook in quick mode via nbval
test: $(STAMP)
	$(PY) scripts/prepare_quick_notebooks.py build/nbval
	$(PY) -m pytest tests build/nbval --nbval-lax $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .

## benchmark: data loading, training throughput (baseline vs MixFeature), MF-JLE step and crops
benchmark: $(STAMP)
	$(PY) scripts/benchmark_data.py $(ARGS)
	$(PY) scripts/benchmark_train.py
	$(PY) scripts/benchmark_mfjle.py

clean-venv:
	rm -rf $(VENV)
