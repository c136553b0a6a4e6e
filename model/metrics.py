"""Evaluation metrics, in one place for training, baselines and `diplostance evaluate`.

Macro-F1 is over the three stances only, as the codebook asks; `none` is reported as its
own recall ("accuracy on none") and in the per-label table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from .labels import LABELS, NONE_LABEL, STANCES


def classification_metrics(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """n, accuracy, stance macro-F1, none accuracy, per-label P/R/F1 and the confusion matrix."""
    gold, predicted = list(gold), list(predicted)
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        return {"n": 0}
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=list(LABELS), zero_division=0
    )
    none_rows = [p for g, p in zip(gold, predicted) if g == NONE_LABEL]
    return {
        "n": len(gold),
        "accuracy": float(np.mean([g == p for g, p in zip(gold, predicted)])),
        "macro_f1": float(f1_score(gold, predicted, labels=list(STANCES), average="macro", zero_division=0)),
        "none_accuracy": float(np.mean([p == NONE_LABEL for p in none_rows])) if none_rows else None,
        "per_label": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(LABELS)
        },
        "confusion_matrix": {
            "labels": list(LABELS),
            "matrix": confusion_matrix(gold, predicted, labels=list(LABELS)).tolist(),
        },
    }


def expected_calibration_error(probabilities: np.ndarray, gold_ids: np.ndarray, n_bins: int = 10) -> float:
    """ECE with equal-width confidence bins: the mean |accuracy - confidence| weighted by bin size."""
    n = len(gold_ids)
    return float(
        sum(
            b["count"] / n * abs(b["accuracy"] - b["confidence"])
            for b in reliability_bins(probabilities, gold_ids, n_bins)
            if b["count"]
        )
    )


def reliability_bins(probabilities: np.ndarray, gold_ids: np.ndarray, n_bins: int = 10) -> list[dict]:
    """Per-bin count, mean confidence and accuracy, for reliability diagrams."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == gold_ids
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    return [
        {
            "bin": b,
            "count": int((bins == b).sum()),
            "confidence": float(confidence[bins == b].mean()) if (bins == b).any() else None,
            "accuracy": float(correct[bins == b].mean()) if (bins == b).any() else None,
        }
        for b in range(n_bins)
    ]


def probability_metrics(gold: Sequence[str], probabilities: np.ndarray, labels: Sequence[str] = LABELS) -> dict:
    """classification_metrics of the argmax labels, plus ECE (10 bins) of the probabilities."""
    predicted = [labels[i] for i in probabilities.argmax(axis=1)]
    gold_ids = np.array([list(labels).index(g) for g in gold])
    metrics = classification_metrics(gold, predicted)
    if len(gold):
        metrics["ece"] = expected_calibration_error(probabilities, gold_ids)
    return metrics
