# Set-up and the two README commands. Nothing here assumes anything installed by hand.
# torch is installed first, as the CPU build pinned below, so that no CUDA packages are pulled on a
# machine without a GPU; override TORCH_SPEC (and PIP_TORCH_ARGS, e.g. an index URL) for other builds.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
PIP_TORCH_ARGS ?=
PIP := $(BIN)/python -m pip

.PHONY: demo test install install-test system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.torch: | $(BIN)/python
	$(PIP) install $(PIP_TORCH_ARGS) "$(TORCH_SPEC)"
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.torch
	$(PIP) install -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

system-deps:
	bash scripts/install-system-deps.sh

demo: $(VENV)/.installed system-deps
	$(BIN)/posekit demo

test: $(VENV)/.installed-test system-deps
	bash scripts/install-browser.sh
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build src/*.egg-info
