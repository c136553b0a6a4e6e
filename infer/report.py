"""The evaluation report an analyst can audit in two minutes (`diplostance evaluate --report DIR`).

Files: metrics.json (all metrics, with ECE), per_label.csv (precision/recall/F1/support),
confusion_matrix.png, reliability.png (calibration), errors.csv (misclassified rows with
text, gold, predicted, confidence).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from diplostance.model.labels import LABELS
from diplostance.model.metrics import probability_metrics, reliability_bins

REPORT_FILES = ("metrics.json", "per_label.csv", "confusion_matrix.png", "reliability.png", "errors.csv")


def write_report(folder: str | Path, texts: Sequence[str], gold: Sequence[str], proba: np.ndarray) -> dict:
    """Write the report files into ``folder``; return the metrics."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    gold_ids = np.array([LABELS.index(g) for g in gold])
    metrics = probability_metrics(gold, proba)
    metrics["reliability"] = reliability_bins(proba, gold_ids)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    with (folder / "per_label.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label", "precision", "recall", "f1", "support"])
        for label in LABELS:
            m = metrics["per_label"][label]
            writer.writerow([label, f"{m['precision']:.4f}", f"{m['recall']:.4f}", f"{m['f1']:.4f}", m["support"]])

    matrix = np.array(metrics["confusion_matrix"]["matrix"])
    figure, axes = plt.subplots(figsize=(5.5, 4.5))
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(LABELS)), LABELS, rotation=30)
    axes.set_yticks(range(len(LABELS)), LABELS)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    for (i, j), count in np.ndenumerate(matrix):
        axes.text(j, i, str(count), ha="center", va="center", color="white" if count > matrix.max() / 2 else "black")
    axes.set_title(f"Confusion matrix (n={len(gold)}, stance macro-F1 {metrics['macro_f1']:.3f})")
    figure.tight_layout()
    figure.savefig(folder / "confusion_matrix.png", dpi=120)
    plt.close(figure)

    bins = metrics["reliability"]
    width = 1 / len(bins)
    lefts = [b["bin"] * width for b in bins]
    figure, (axes, counts) = plt.subplots(
        2, 1, figsize=(5, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )  # fixed bins: a bin of 2 rows must not look like a bin of 200, so the counts sit below
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    axes.bar(lefts, [b["accuracy"] or 0 for b in bins], width=width, align="edge", alpha=0.7, edgecolor="white",
             label="accuracy per confidence bin")  # fmt: skip
    axes.set_ylabel("accuracy")
    axes.set_ylim(0, 1)
    axes.set_title(f"Reliability (ECE {metrics['ece']:.3f}, n={len(gold)})")
    axes.legend(loc="upper left")
    counts.bar(lefts, [b["count"] for b in bins], width=width, align="edge", color="grey", edgecolor="white")
    for left, b in zip(lefts, bins):
        counts.text(left + width / 2, b["count"], str(b["count"]), ha="center", va="bottom", fontsize=7)
    counts.set_xlim(0, 1)
    counts.set_xlabel("confidence")
    counts.set_ylabel("rows")
    figure.tight_layout()
    figure.savefig(folder / "reliability.png", dpi=120)
    plt.close(figure)

    predicted = proba.argmax(axis=1)
    with (folder / "errors.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "gold", "predicted", "confidence"])
        for text, g, p, row in zip(texts, gold_ids, predicted, proba):
            if g != p:
                writer.writerow([text, LABELS[g], LABELS[p], f"{row[p]:.4f}"])
    return metrics
