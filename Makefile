# The two commands of the README: `make repro` (set up, then run the whole DVC pipeline) and
# `make test` (set up, then run the test suite). Everything else is a convenience.
SHELL := /bin/bash
export DVC_NO_ANALYTICS := 1
export MLFLOW_DISABLE_TELEMETRY := true
export GX_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
# Byte-compiled modules are written on first import (set-up installs with `pip --no-compile`,
# which saves ~45 s): a PYTHONDONTWRITEBYTECODE=1 in the caller's environment would make every
# process compile its imports from source again, each time (a no-op `dvc repro` took 2.4 s instead
# of 1.3 s on the same machine, and every stage and worker paid seconds).
unexport PYTHONDONTWRITEBYTECODE
VENV := .venv/bin
# DVC runs each stage's `python ...` through the shell: it must find the venv's interpreter.
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup repro test test-fast check-lock bench clean
setup:
	@bash scripts/setup.sh

repro: setup
	$(VENV)/dvc repro

test: setup
	$(VENV)/python -m pytest -q tests

test-fast: setup
	$(VENV)/python -m pytest -q -m "not slow" tests

# A fresh clone of HEAD must reproduce the committed dvc.lock for seed..balance (minutes).
check-lock: setup
	TERMCORPUS_CLONE_LOCK_TEST=1 $(VENV)/python -m pytest -q tests/tracking/test_clone_reproduces_lock.py

bench: setup
	$(VENV)/python -m bench.run_all
