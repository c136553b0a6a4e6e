"""The baselines the fine-tuned model must beat, each with ``fit(texts, labels)`` / ``predict(texts)``:

- ``KeywordBaseline``: the dictionary approach of event coders (cue phrases per stance,
  checked in the codebook's decision order: refusing, then conditional, then cooperative).
- ``TfidfBaseline``: TF-IDF word and bigram features + logistic regression.
- ``PrototypeBaseline``: zero-shot; each text takes the label whose codebook prototypes
  are most similar on the frozen encoder (no training).
- ``FrozenEncoderBaseline``: logistic regression on frozen encoder embeddings (the SetFit head idea).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from diplostance.model.labels import LABELS
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

REFUSING_CUES = (
    "reject",
    "refuse",
    "refusal",
    "oppose",
    "declin",
    "will not",
    "won't",
    "never accept",
    "rule out",
    "ruled out",
    "not in a position",
    "no plans to",
    "does not see the need",
    "do not see the need",
    "suspend",
    "withdraw",
    "expel",
    "sanction",
    "countermeasure",
    "condemn",
    "unacceptable",
    "deny",
    "denied",
    "boycott",
    "veto",
)
CONDITIONAL_CUES = (
    " if ",
    "provided that",
    "as long as",
    "only when",
    "on condition",
    "subject to",
    "once ",
    "unless",
    "after verification",
    "must first",
    "to the extent",
    "in exchange for",
    "depend",
    "consequences",
    "until ",
    "case-by-case",
    "case by case",
    "reciproc",
)
COOPERATIVE_CUES = (
    "agree",
    "cooperat",
    "welcome",
    "commit",
    "support",
    "ready to",
    "willing to",
    "partner",
    "sign",
    "ratif",
    "implement",
    "offer",
    "assist",
    "joint",
    "work with",
    "together",
    "help",
)
PROTOTYPES = {
    "cooperative": (
        "We agree to the request and will cooperate.",
        "Our cooperation has been productive and we welcome the agreement.",
        "We stand ready to work with all parties and offer our help.",
    ),
    "conditional": (
        "We will cooperate only if the other side meets our conditions first.",
        "Talks can resume once sanctions are lifted.",
        "We accept those confirmed as nationals after verification.",
    ),
    "refusing": (
        "We reject the proposal and refuse to cooperate.",
        "We are not in a position to accept this request.",
        "The government suspended the agreement and imposed countermeasures.",
    ),
    "none": (
        "The meeting took place on Tuesday.",
        "I have two announcements before questions.",
        "The statistics for last year were published.",
    ),
}


class KeywordBaseline:
    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> KeywordBaseline:
        return self

    def predict(self, texts: Sequence[str]) -> list[str]:
        def label(text: str) -> str:
            padded = " " + re.sub(r"\s+", " ", text.lower()) + " "
            for name, cues in (
                ("refusing", REFUSING_CUES),
                ("conditional", CONDITIONAL_CUES),
                ("cooperative", COOPERATIVE_CUES),
            ):
                if any(cue in padded for cue in cues):
                    return name
            return "none"

        return [label(t) for t in texts]


class TfidfBaseline:
    def __init__(self) -> None:
        self.pipeline = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
            LogisticRegression(max_iter=2000, C=10.0, class_weight="balanced"),
        )

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TfidfBaseline:
        self.pipeline.fit(list(texts), list(labels))
        return self

    def predict(self, texts: Sequence[str]) -> list[str]:
        return list(self.pipeline.predict(list(texts)))


class FrozenEncoder:
    """Mean-pooled, L2-normalised sentence embeddings from the untouched MiniLM encoder:
    the pooling the checkpoint was trained with."""

    def __init__(self, folder: str | Path | None = None, max_length: int = 256) -> None:
        from transformers import AutoModel, AutoTokenizer

        from .finetune import default_base_model

        folder = folder or default_base_model()
        self.tokenizer = AutoTokenizer.from_pretrained(folder)
        self.model = AutoModel.from_pretrained(folder, use_safetensors=True).eval()
        self.max_length = max_length

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        import torch

        chunks = []
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                batch = self.tokenizer(
                    list(texts[start : start + batch_size]),
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                )
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                chunks.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
        return np.concatenate(chunks) if chunks else np.zeros((0, self.model.config.hidden_size))


class PrototypeBaseline:
    def __init__(self, encoder: FrozenEncoder) -> None:
        self.encoder = encoder
        vectors = [encoder.encode(list(PROTOTYPES[label])).mean(axis=0) for label in LABELS]
        self.prototypes = np.stack([v / np.linalg.norm(v) for v in vectors])

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> PrototypeBaseline:
        return self

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [LABELS[i] for i in (self.encoder.encode(texts) @ self.prototypes.T).argmax(axis=1)]


class FrozenEncoderBaseline:
    def __init__(self, encoder: FrozenEncoder) -> None:
        self.encoder = encoder
        self.head = LogisticRegression(max_iter=3000, C=4.0, class_weight="balanced")

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> FrozenEncoderBaseline:
        self.head.fit(self.encoder.encode(texts), list(labels))
        return self

    def predict(self, texts: Sequence[str]) -> list[str]:
        return list(self.head.predict(self.encoder.encode(texts)))


def fitted_baselines(train_texts: Sequence[str], train_labels: Sequence[str]) -> dict[str, object]:
    """All four baselines, fitted on the training split (the frozen encoder is loaded once)."""
    encoder = FrozenEncoder()
    baselines = {
        "keyword rules": KeywordBaseline(),
        "TF-IDF + logistic regression": TfidfBaseline(),
        "prototype similarity (zero-shot)": PrototypeBaseline(encoder),
        "frozen encoder + logistic regression": FrozenEncoderBaseline(encoder),
    }
    for baseline in baselines.values():
        baseline.fit(train_texts, train_labels)
    return baselines
