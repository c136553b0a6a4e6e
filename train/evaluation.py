"""The evaluation table: every system on the same test sets, side by side.

Each system is a function from texts to labels; the fine-tuned model enters the same way
as the baselines (the CLI passes ``StanceClassifier.predict``), so this module does not
depend on the inference code. Every test set is reported whole and by slice: real units,
authored units, and the hard units (the cases the codebook calls out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from diplostance.model.labels import STANCES
from diplostance.model.metrics import classification_metrics

from .data import Example

System = Callable[[Sequence[str]], Sequence[str]]


def slices(examples: list[Example]) -> dict[str, list[Example]]:
    """The whole set, then real, authored and hard units (empty slices left out)."""
    parts = {
        "all": examples,
        "real": [e for e in examples if e.source == "real"],
        "authored": [e for e in examples if e.source == "authored"],
        "hard": [e for e in examples if e.hard],
    }
    return {name: rows for name, rows in parts.items() if rows}


def compare(systems: dict[str, System], test_sets: dict[str, list[Example]]) -> list[dict]:
    """One row per (test set, slice, system): n, stance macro-F1, per-stance F1, none accuracy."""
    rows = []
    for set_name, examples in test_sets.items():
        predictions = {name: list(system([e.text for e in examples])) for name, system in systems.items()}
        index = {id(e): i for i, e in enumerate(examples)}
        for slice_name, subset in slices(examples).items():
            gold = [e.label for e in subset]
            for name in systems:
                predicted = [predictions[name][index[id(e)]] for e in subset]
                metrics = classification_metrics(gold, predicted)
                rows.append(
                    {
                        "test_set": set_name,
                        "slice": slice_name,
                        "system": name,
                        "n": metrics["n"],
                        "macro_f1": metrics["macro_f1"],
                        **{f"f1_{label}": metrics["per_label"][label]["f1"] for label in STANCES},
                        "none_accuracy": metrics["none_accuracy"],
                    }
                )
    return rows


def render_markdown(rows: list[dict]) -> str:
    """The comparison as one Markdown table."""
    header = ["test set", "slice", "system", "n", "macro-F1", *(f"F1 {s}" for s in STANCES), "none acc."]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        none = "–" if row["none_accuracy"] is None else f"{row['none_accuracy']:.3f}"
        cells = [
            row["test_set"],
            row["slice"],
            row["system"],
            str(row["n"]),
            f"{row['macro_f1']:.3f}",
            *(f"{row[f'f1_{s}']:.3f}" for s in STANCES),
            none,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
