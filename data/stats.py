"""The datasheet's tables, computed from the data: counts by source, split and label, and the
annotators' agreement per batch. `tests/test_corpus.py` checks that data/README.md shows exactly
these tables, so the datasheet cannot drift from the data.

Run from the project root: python data/stats.py
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
LABELS = ("cooperative", "conditional", "refusing", "none")
SPLITS = ("train", "dev", "test", "heldout_dev", "heldout_test")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def kind(row: dict) -> str:
    return "pairs" if row["pair"] else row["source"]


def counts_table(rows: list[dict]) -> str:
    lines = ["| source | split | " + " | ".join(LABELS) + " | total | hard |", "|---|---|" + "---|" * 6]
    groups = Counter((kind(r), r["split"]) for r in rows)
    for source in ("real", "authored", "pairs"):
        for split in SPLITS:
            subset = [r for r in rows if kind(r) == source and r["split"] == split]
            if not groups[(source, split)]:
                continue
            by_label = Counter(r["label"] for r in subset)
            cells = [str(by_label[label]) for label in LABELS] + [str(len(subset)), str(sum(r["hard"] for r in subset))]
            lines.append(f"| {source} | {split} | " + " | ".join(cells) + " |")
    total = Counter(r["label"] for r in rows)
    shares = [f"{total[label]} ({total[label] / len(rows):.1%})" for label in LABELS]
    lines.append("| **all** | | " + " | ".join(shares) + f" | {len(rows)} | {sum(r['hard'] for r in rows)} |")
    return "\n".join(lines)


def agreement_table(agreement: dict) -> str:
    lines = [
        "| batch | double-read | raw agreement | Cohen's kappa | disagreements | adjudicated | dropped |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, a in agreement.items():
        cells = [a.get(k, "") for k in ("disagreements", "adjudicated", "dropped")]
        lines.append(
            f"| {name} | {a['double_read']} | {a['raw_agreement']:.3f} | {a['cohen_kappa']:.3f} | "
            + " | ".join(map(str, cells))
            + " |"
        )
    return "\n".join(lines)


def render() -> str:
    rows = read_jsonl(HERE / "corpus.jsonl")
    agreement_path = HERE / "annotation" / "agreement.json"
    agreement = json.loads(agreement_path.read_text()) if agreement_path.is_file() else {}
    return counts_table(rows) + "\n\n" + agreement_table(agreement) + "\n"


if __name__ == "__main__":
    print(render())
