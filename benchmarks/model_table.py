"""The model table of the README: each model on the held-out-register test, the in-distribution test,
PLOVER and the hard/real slices, with calibration and speed, side by side in one run.

    python benchmarks/model_table.py --model student=models/diplostance --model teacher=models/diplostance-accurate
        [--backend onnx] [--out reports/models.md]

Columns: macro-F1 over the three stances; `none` recall (share of no-position units labelled none); ECE
(10 bins) after the model's own temperature; statements/s of `predict_proba` on the held-out texts (median
of 3 runs, after a warm-up, in this process; compare ratios, not absolute numbers).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from diplostance.infer import StanceClassifier
from diplostance.model.labels import LABELS
from diplostance.model.metrics import probability_metrics
from diplostance.train.data import CORPUS_FILE, load_examples

ROOT = Path(__file__).resolve().parent.parent
PLOVER_FILE = ROOT / "data" / "plover_test.jsonl"


def test_sets() -> dict[str, list]:
    corpus = load_examples([CORPUS_FILE])
    heldout = [e for e in corpus if e.split == "heldout_test"]
    return {
        "held-out test": heldout,
        "held-out hard": [e for e in heldout if e.hard],
        "held-out real": [e for e in heldout if e.source == "real"],
        "in-dist. test": [e for e in corpus if e.split == "test"],
        "PLOVER": load_examples([PLOVER_FILE]),
    }


def none_recall(metrics: dict) -> float | None:
    return metrics["per_label"]["none"]["recall"] if metrics["per_label"]["none"]["support"] else None


def evaluate(classifier: StanceClassifier, sets: dict[str, list]) -> dict:
    row = {}
    for name, examples in sets.items():
        proba = classifier.predict_proba([e.text for e in examples])
        metrics = probability_metrics([e.label for e in examples], proba)
        row[name] = {
            "n": metrics["n"],
            "macro_f1": metrics["macro_f1"],
            "none": none_recall(metrics),
            "ece": metrics["ece"],
        }
    texts = [e.text for e in sets["held-out test"]]
    classifier.predict_proba(texts[:32])
    times = []
    for _ in range(3):
        start = time.perf_counter()
        classifier.predict_proba(texts)
        times.append(time.perf_counter() - start)
    row["statements_per_s"] = len(texts) / statistics.median(times)
    return row


def render(results: dict[str, dict]) -> str:
    names = list(next(iter(results.values())))
    names.remove("statements_per_s")
    header = ["model"] + [f"{n} F1" for n in names] + ["held-out none recall", "held-out ECE", "statements/s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for model, row in results.items():
        held = row["held-out test"]
        none = "–" if held["none"] is None else f"{held['none']:.3f}"
        cells = [model, *(f"{row[n]['macro_f1']:.3f}" for n in names), none, f"{held['ece']:.3f}"]
        lines.append("| " + " | ".join(cells + [f"{row['statements_per_s']:.0f}"]) + " |")
    sizes = ", ".join(f"{n} {row[n]['n']}" for n, row in [(n, next(iter(results.values()))) for n in names])
    return "\n".join(lines) + f"\n\nRows: {sizes}. Labels: {', '.join(LABELS)}.\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="NAME=FOLDER (repeatable)")
    parser.add_argument("--backend", default="onnx")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "models.md")
    args = parser.parse_args()
    sets = test_sets()
    results = {}
    for spec in args.model:
        name, folder = spec.split("=", 1)
        results[name] = evaluate(StanceClassifier.from_pretrained(folder, backend=args.backend), sets)
    table = render(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
