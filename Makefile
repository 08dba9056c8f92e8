# Two entry points (see README):  make test   |   make demo
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: setup test demo bench

setup:  ## create .venv/ and install everything (apt packages included); idempotent
	bash tools/setup.sh

test: setup  ## the test suite (what CI runs)
	$(PY) -m pytest -q

bench: setup  ## compressor benchmark (32 x 1000 units on this CPU)
	$(PY) -m espnet2_ext.bin.bench_compressor

demo: setup  ## the embedded default recipe, end to end
	@if [ -x egs2/mini_synth/asr/run.sh ]; then cd egs2/mini_synth/asr && ./run.sh; \
	else echo "egs2/mini_synth/asr is not there yet (recipes milestone)"; exit 1; fi
