"""The label-error review: two independent reviewers per flagged unit, a third decides where they differ.

``find_label_issues.py`` writes the flagged units (``relabels/<pass>-flagged.jsonl``, with the current
label). Each reviewer's decisions (``keep``, ``drop`` or a new label; guide ``guides/RELABEL.md``) are
``relabels/readings/<pass>-<reviewer>.jsonl``; the adjudicator's are ``relabels/adjudications/<pass>.jsonl``.

- ``adjudication PASS --out FILE``: the units whose reviewers differ and have no decision yet, with the
  text, the current label and every review, for the adjudicator (guide ``guides/ADJUDICATE.md``).
- ``merge PASS``: the final decisions -> ``relabels/<pass>.jsonl`` (what ``build_corpus.py`` applies), and the
  reviewers' agreement (raw, Cohen's kappa over the label each review leaves, ``drop`` counted as a
  category) with the counts of changed and dropped labels -> ``relabels/agreement.json``.

Run from the project root: python data/annotation/relabel.py <command> PASS ...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from merge import HERE, LABELS, read_jsonl
from prepare import write_jsonl
from sklearn.metrics import cohen_kappa_score

RELABELS = HERE / "relabels"
DECISIONS = ("keep", "drop", *LABELS)


def reviews(name: str) -> tuple[dict[str, dict], list[dict[str, str]]]:
    """The flagged units by id, and one {id: decision} per reviewer (checked against the flagged ids)."""
    flagged = {r["id"]: r for r in read_jsonl(RELABELS / f"{name}-flagged.jsonl")}
    per_reviewer = []
    for path in sorted((RELABELS / "readings").glob(f"{name}-*.jsonl")):
        decisions = {}
        for n, row in enumerate(read_jsonl(path), 1):
            if row["id"] not in flagged or row["label"] not in DECISIONS:
                raise ValueError(f"{path}:{n}: unknown id {row['id']!r} or invalid decision {row['label']!r}")
            decisions[row["id"]] = row["label"]
        per_reviewer.append(decisions)
    return flagged, per_reviewer


def review_labels(unit: dict, per_reviewer: list[dict[str, str]]) -> list[str]:
    """The label each review of ``unit`` leaves (``keep`` leaves the current one), in reviewer order."""
    return [unit["label"] if r[unit["id"]] == "keep" else r[unit["id"]] for r in per_reviewer if unit["id"] in r]


def adjudication(name: str, out: Path) -> None:
    flagged, per_reviewer = reviews(name)
    done_path = RELABELS / "adjudications" / f"{name}.jsonl"
    done = {d["id"] for d in read_jsonl(done_path)} if done_path.is_file() else set()
    rows = []
    for unit_id, unit in flagged.items():
        labels = review_labels(unit, per_reviewer)
        if len(labels) >= 2 and len(set(labels)) > 1 and unit_id not in done:
            rows.append(unit | {f"review_{n}": label for n, label in enumerate(labels, 1)})
    write_jsonl(out, rows)
    print(f"{len(rows)} units where the reviews differ -> {out}")


def merge(name: str) -> None:
    flagged, per_reviewer = reviews(name)
    done_path = RELABELS / "adjudications" / f"{name}.jsonl"
    decided = {d["id"]: d["label"] for d in read_jsonl(done_path)} if done_path.is_file() else {}
    final, first, second = [], [], []
    for unit_id, unit in flagged.items():
        labels = review_labels(unit, per_reviewer)
        if len(labels) < 2:
            continue
        first.append(labels[0])
        second.append(labels[1])
        label = labels[0] if len(set(labels)) == 1 else decided.get(unit_id)
        if label is not None:
            final.append({"id": unit_id, "label": "keep" if label == unit["label"] else label})
    write_jsonl(RELABELS / f"{name}.jsonl", final)
    summary = {
        "flagged": len(flagged),
        "double_reviewed": len(first),
        "raw_agreement": round(sum(a == b for a, b in zip(first, second)) / max(len(first), 1), 4),
        "cohen_kappa": round(cohen_kappa_score(first, second, labels=[*LABELS, "drop"]), 4) if first else None,
        "adjudicated": sum(1 for a, b in zip(first, second) if a != b),
        "undecided": len(first) - len(final),
        "kept": sum(d["label"] == "keep" for d in final),
        "changed": sum(d["label"] in LABELS for d in final),
        "dropped": sum(d["label"] == "drop" for d in final),
    }
    agreement_path = RELABELS / "agreement.json"
    agreement = json.loads(agreement_path.read_text()) if agreement_path.is_file() else {}
    agreement_path.write_text(json.dumps(agreement | {name: summary}, indent=2) + "\n")
    print(f"{name}: {summary}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    adjudicate = sub.add_parser("adjudication")
    adjudicate.add_argument("name")
    adjudicate.add_argument("--out", type=Path, required=True)
    sub.add_parser("merge").add_argument("name")
    args = parser.parse_args()
    if args.command == "adjudication":
        adjudication(args.name, args.out)
    else:
        merge(args.name)


if __name__ == "__main__":
    main()
