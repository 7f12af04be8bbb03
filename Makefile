# Two entry points for a fresh machine (see README.md):
#   make run    executes every notebook in order on the built-in data (papermill)
#   make test   runs the test suite, notebooks included (pytest + nbval)
# Both create the virtual environment .venv on first use and reuse it afterwards; it is
# rebuilt when pyproject.toml changes.
# Working on the notebooks:
#   make lab        opens JupyterLab on notebooks/ in the repository's .venv
#   make notebooks  syncs each notebooks/NN_name.py (jupytext py:percent, the file to edit)
#                   into its NN_name.ipynb, then clears the .ipynb outputs (committed clean)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: venv run test quick lint lab notebooks benchmark replicate clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	$(PY) -c "import torch, torchvision; print('torch', torch.__version__, '| torchvision', torchvision.__version__)"
	@touch $(STAMP)

## venv: only create (or update) .venv, e.g. before `.venv/bin/python -m fer_utils.sweep ...`
venv: $(STAMP)

## run: execute every notebook on the built-in data; executed copies and results go to runs/<stamp>/
run: $(STAMP)
	$(PY) scripts/run_notebooks.py $(ARGS)

## quick: the same in quick mode (what the tests execute), for a fast look
quick: $(STAMP)
	$(PY) scripts/run_notebooks.py --quick $(ARGS)

## test: unit tests, notebook format checks, ruff, and every notebook in quick mode via nbval
test: $(STAMP)
	$(PY) scripts/prepare_quick_notebooks.py build/nbval
	TQDM_DISABLE=1 $(PY) -m pytest tests build/nbval --nbval-lax $(ARGS)

lint: $(STAMP)
	$(PY) -m ruff check .

## lab: JupyterLab on the notebooks, with the repository's venv and kernel
lab: $(STAMP)
	$(PY) -m jupyter lab notebooks/

## notebooks: after editing notebooks/NN_name.py, regenerate NN_name.ipynb (output-free).
## jupytext --sync takes each pair's inputs from its newer file, keeping cell ids.
notebooks: $(STAMP)
	$(PY) -m jupytext --sync notebooks/[0-9][0-9]_*.py notebooks/experiments/*.py
	$(PY) -m jupyter nbconvert --log-level=WARN --clear-output --inplace notebooks/[0-9][0-9]_*.ipynb notebooks/experiments/*.ipynb

## benchmark: data loading, training throughput (baseline vs MixFeature), MF-JLE step and crops
benchmark: $(STAMP)
	$(PY) scripts/benchmark_data.py $(ARGS)
	$(PY) scripts/benchmark_train.py
	$(PY) scripts/benchmark_mfjle.py
	$(PY) scripts/benchmark_sweep.py

## replicate: paper A's Table 2 at the paper's settings on a CUDA GPU, every dataset present
replicate: $(STAMP)
	$(PY) scripts/replicate_paper.py $(ARGS)

clean-venv:
	rm -rf $(VENV)
