"""Merge the independent readings of each annotation batch into final labels, and measure agreement.

A batch (``batches.json``) is a slice of real units or a helper-written set of statements. Each
reading is one annotator's file in ``readings/<batch>/<annotator>.jsonl``; for written batches the
writer's intended label is one reading (the writer's file also holds the text). Per unit:

- both readings agree -> that label;
- they disagree -> the adjudicator's label (``adjudications/<batch>.jsonl``; the adjudicator saw
  both readings), or the unit is left out as undecided until a decision exists;
- the adjudicator may answer ``drop`` (ambiguous by the codebook): the unit is left out.

A unit with one reading so far keeps that reading and is marked ``readings: 1``.
Writes ``final/<batch>.jsonl`` and ``agreement.json`` (raw agreement and Cohen's kappa per batch and
per source). Run from the project root: python data/annotation/merge.py
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

HERE = Path(__file__).resolve().parent
LABELS = ("cooperative", "conditional", "refusing", "none")
ATTRIBUTES = ("actor", "counterpart", "issue")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def batch_units(name: str, spec: dict) -> dict[str, list[dict]]:
    """Readings per unit id, in the batch's unit order (writer's ids are ``<batch>-NNNN`` by line)."""
    readings: dict[str, list[dict]] = defaultdict(list)
    for annotator in spec["readings"]:
        path = HERE / "readings" / name / f"{annotator}.jsonl"
        if not path.is_file():
            continue
        for n, row in enumerate(read_jsonl(path), 1):
            unit_id = row.get("id") or f"{name}-{n:04d}"
            if row.get("label") not in LABELS:
                raise ValueError(f"{path}:{n}: invalid label {row.get('label')!r}")
            readings[unit_id].append(row | {"id": unit_id, "annotator": annotator})
    return readings


def merged(unit_id: str, readings: list[dict], decision: dict | None) -> dict | None:
    labels = [r["label"] for r in readings]
    first = readings[0]
    if len(set(labels)) == 1:
        label, how = labels[0], "agreed" if len(readings) > 1 else "single"
        source = first
    elif decision is None:
        return None
    elif decision["label"] == "drop":
        return None
    else:
        label, how, source = decision["label"], "adjudicated", decision
    attributes = {a: source.get(a, first.get(a)) for a in ATTRIBUTES}
    return {
        "id": unit_id,
        "label": label,
        "hard": any(bool(r.get("hard")) for r in readings),
        **attributes,
        "readings": len(readings),
        "decided": how,
        **{k: first[k] for k in ("text", "pair", "member", "edit", "register") if k in first},
    }


def main() -> None:
    batches = json.loads((HERE / "batches.json").read_text())
    (HERE / "final").mkdir(exist_ok=True)
    agreement: dict[str, dict] = {}
    pooled: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for name, spec in batches.items():
        readings = batch_units(name, spec)
        if not readings:
            continue
        path = HERE / "adjudications" / f"{name}.jsonl"
        decisions = {d["id"]: d for d in read_jsonl(path)} if path.is_file() else {}
        finals = [m for uid, rs in readings.items() if (m := merged(uid, rs, decisions.get(uid)))]
        with (HERE / "final" / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(m, ensure_ascii=False) + "\n" for m in finals)
        double = [rs for rs in readings.values() if len(rs) >= 2]
        if double:
            a, b = [rs[0]["label"] for rs in double], [rs[1]["label"] for rs in double]
            pooled[spec["source"]][0].extend(a)
            pooled[spec["source"]][1].extend(b)
            disagreements = sum(x != y for x, y in zip(a, b))
            agreement[name] = {
                "units": len(readings),
                "double_read": len(double),
                "raw_agreement": round(1 - disagreements / len(double), 4),
                "cohen_kappa": round(cohen_kappa_score(a, b, labels=list(LABELS)), 4),
                "disagreements": disagreements,
                "adjudicated": sum(1 for m in finals if m["decided"] == "adjudicated"),
                "dropped": sum(1 for uid in decisions if decisions[uid]["label"] == "drop"),
                "undecided": sum(
                    1 for rs in double if len({r["label"] for r in rs}) > 1 and rs[0]["id"] not in decisions
                ),
            }
        print(
            f"{name}: {len(finals)} final of {len(readings)} units"
            + (f", {agreement[name]}" if name in agreement else "")
        )
    for source, (a, b) in pooled.items():
        agreement[f"all {source}"] = {
            "double_read": len(a),
            "raw_agreement": round(sum(x == y for x, y in zip(a, b)) / len(a), 4),
            "cohen_kappa": round(cohen_kappa_score(a, b, labels=list(LABELS)), 4),
        }
    (HERE / "agreement.json").write_text(json.dumps(agreement, indent=2) + "\n")


if __name__ == "__main__":
    main()
