"""Find likely label errors in the corpus with cleanlab, for a third reading.

Cleanlab's ``find_label_issues`` needs probabilities from a model that never saw the row it scores
(Northcutt et al., 2021, confident learning). Here that model is a logistic regression on frozen MiniLM
sentence embeddings: cheap enough to cross-validate on two cores in a few minutes, and independent of the
fine-tuned models whose training data it checks. Rows of the training splits get 5-fold out-of-fold
probabilities; held-out rows get probabilities from a head fitted on the training splits only, so no
held-out text is ever fitted on.

The flagged rows, ranked by self-confidence (the probability of the given label), are written with
their current label (not the model's guess, so the reviewer judges the text afresh) for a helper to
re-read by ``annotation/guides/RELABEL.md``; its decisions go to ``annotation/relabels/cleanlab.jsonl``
and ``build_corpus.py`` applies them.

Run from the project root: python data/find_label_issues.py [--top N]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from build_corpus import embed, read_jsonl
from cleanlab.filter import find_label_issues
from diplostance.model.labels import LABELS
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

HERE = Path(__file__).resolve().parent
UNIT_FIELDS = ("id", "text", "question", "speaker_or_source", "label")


def out_of_sample_probabilities(vectors: np.ndarray, labels: np.ndarray, heldout: np.ndarray) -> np.ndarray:
    """Each row's class probabilities from a head that was not fitted on it (nor on any held-out row)."""
    head = LogisticRegression(max_iter=3000, C=4.0, class_weight="balanced")
    probabilities = np.zeros((len(labels), len(LABELS)))
    train = ~heldout
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    probabilities[train] = cross_val_predict(head, vectors[train], labels[train], cv=folds, method="predict_proba")
    if heldout.any():
        probabilities[heldout] = head.fit(vectors[train], labels[train]).predict_proba(vectors[heldout])
    return probabilities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=250, help="how many of the flagged rows to write for review")
    parser.add_argument("--out", type=Path, default=HERE / "annotation" / "relabels" / "cleanlab-flagged.jsonl")
    args = parser.parse_args()
    rows = read_jsonl(HERE / "corpus.jsonl")
    labels = np.array([LABELS.index(r["label"]) for r in rows])
    heldout = np.array([r["split"].startswith("heldout") for r in rows])
    probabilities = out_of_sample_probabilities(embed([r["text"] for r in rows]), labels, heldout)
    ranked = find_label_issues(labels, probabilities, return_indices_ranked_by="self_confidence")
    accuracy = float((probabilities.argmax(1) == labels).mean())
    print(f"{len(rows)} rows, out-of-sample accuracy {accuracy:.3f}; cleanlab flags {len(ranked)}")
    for split in ("train", "dev", "test", "heldout_dev", "heldout_test"):
        print(f"  {split}: {sum(rows[i]['split'] == split for i in ranked)} flagged")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for i in ranked[: args.top]:
            unit = {k: rows[i][k] for k in UNIT_FIELDS if rows[i].get(k)}
            handle.write(json.dumps(unit, ensure_ascii=False) + "\n")
    print(f"top {min(args.top, len(ranked))} -> {args.out}")


if __name__ == "__main__":
    main()
