# Two entry points (see README):  make test   |   make demo
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: setup style format test demo bench benchmark

setup:  ## create .venv/ and install everything (apt packages included); idempotent
	bash tools/setup.sh

# ESPnet's code style (pyproject.toml: black, isort; setup.cfg: flake8), with the tools
# pinned in setup.cfg's test extra. `make format` fixes what black and isort can; the
# rest of flake8's findings are fixed by hand.
style: setup  ## check the code style: black, isort (profile black), flake8 (88 columns)
	@$(PY) -m black --check --diff --quiet . || { echo "style: black would reformat the files above; run 'make format'"; exit 1; }
	@$(PY) -m isort --check-only --diff --quiet . || { echo "style: isort would re-sort the imports above; run 'make format'"; exit 1; }
	@$(PY) -m flake8 . || { echo "style: flake8 findings above (not fixed by 'make format')"; exit 1; }
	@echo "style: black, isort and flake8 clean"

format: setup  ## apply isort and black to the tree
	$(PY) -m isort .
	$(PY) -m black .

# The suite runs in TEST_JOBS worker processes (pytest-xdist), a test file per worker
# at a time (--dist loadfile: a file's module fixtures are built once); the end-to-end
# recipe tests are chains of single-threaded subprocesses, so one process leaves the
# second core idle. `make test TEST_JOBS=0` runs it in this process.
TEST_JOBS ?= 2

test: setup style  ## the code style, then the test suite (what CI runs)
	$(PY) -m pytest -q -n $(TEST_JOBS) --dist loadfile

# BENCH_ARGS: options of bench_compressor, e.g. a toy size for a quick check:
# make bench BENCH_ARGS="--batch 2 --length 200 --repeat 1"
BENCH_ARGS ?=

bench: setup  ## compressor benchmark (32 x 1000 units on this CPU)
	$(PY) -m espnet2_ext.bin.bench_compressor $(BENCH_ARGS)

demo: setup  ## the embedded default recipe, end to end
	cd egs2/mini_synth/asr && ./run.sh

benchmark: setup  ## the ASR trade-off benchmark on mini_synth (about 4 h on 2 cores, resumable)
	cd egs2/mini_synth/asr && ./run_benchmark.sh
