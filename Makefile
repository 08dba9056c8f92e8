# Two entry points (see README):  make test   |   make demo
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: setup test demo bench benchmark

setup:  ## create .venv/ and install everything (apt packages included); idempotent
	bash tools/setup.sh

test: setup  ## the test suite (what CI runs)
	$(PY) -m pytest -q

bench: setup  ## compressor benchmark (32 x 1000 units on this CPU)
	$(PY) -m espnet2_ext.bin.bench_compressor

demo: setup  ## the embedded default recipe, end to end
	cd egs2/mini_synth/asr && ./run.sh

benchmark: setup  ## the ASR trade-off benchmark on mini_synth (about 4 h on 2 cores, resumable)
	cd egs2/mini_synth/asr && ./run_benchmark.sh
