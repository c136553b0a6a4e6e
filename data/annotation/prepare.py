"""Write the input file one helper receives: a second reading of a written batch, or adjudication.

- ``second-reading BATCH --out FILE``: the texts of a writer's batch (written statements or pairs), with
  ids ``<batch>-NNNN`` by the writer's line order, shuffled and without the writer's labels, pair ids or
  edit kinds, so the second reader sees nothing of the first reading.
- ``adjudication BATCH... --out FILE``: every unit whose readings disagree and that has no decision yet,
  with its text (and question, speaker) and every reading; the adjudicator's output is split back into
  ``adjudications/<batch>.jsonl`` with ``split-adjudication FILE``.

Run from the project root: python data/annotation/prepare.py <command> ...
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from merge import HERE, batch_units, read_jsonl

READING_FIELDS = ("label", "actor", "counterpart", "issue", "note")
UNIT_FIELDS = ("text", "question", "speaker_or_source", "date")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def slice_texts() -> dict[str, dict]:
    """Every sliced pool unit and every corpus row by id (the text the annotators saw)."""
    paths = sorted((HERE / "slices").glob("*.jsonl")) + [HERE.parent / "corpus.jsonl"]
    return {r["id"]: r for path in paths for r in read_jsonl(path) if "id" in r}


def second_reading(batch: str, out: Path, seed: int) -> None:
    spec = json.loads((HERE / "batches.json").read_text())[batch]
    writer = HERE / "readings" / batch / f"{spec['readings'][0]}.jsonl"
    rows = [{"id": f"{batch}-{n:04d}", "text": r["text"]} for n, r in enumerate(read_jsonl(writer), 1)]
    random.Random(seed).shuffle(rows)
    write_jsonl(out, rows)
    print(f"{len(rows)} units of {batch} -> {out}")


def adjudication(batches: list[str], out: Path) -> None:
    specs = json.loads((HERE / "batches.json").read_text())
    texts = slice_texts()
    rows = []
    for batch in batches:
        path = HERE / "adjudications" / f"{batch}.jsonl"
        decided = {d["id"] for d in read_jsonl(path)} if path.is_file() else set()
        for unit_id, readings in batch_units(batch, specs[batch]).items():
            if len(readings) < 2 or len({r["label"] for r in readings}) == 1 or unit_id in decided:
                continue
            unit = texts.get(unit_id) or next(r for r in readings if "text" in r)
            rows.append(
                {"id": unit_id, "batch": batch}
                | {k: unit[k] for k in UNIT_FIELDS if unit.get(k)}
                | {f"reading_{n}": {k: r.get(k) for k in READING_FIELDS} for n, r in enumerate(readings, 1)}
            )
    write_jsonl(out, rows)
    print(f"{len(rows)} disagreements -> {out}")


def split_adjudication(path: Path) -> None:
    """Append an adjudicator's decisions to ``adjudications/<batch>.jsonl`` (batch field dropped)."""
    by_batch: dict[str, list[dict]] = {}
    for row in read_jsonl(path):
        by_batch.setdefault(row.pop("batch"), []).append(row)
    for batch, rows in by_batch.items():
        target = HERE / "adjudications" / f"{batch}.jsonl"
        known = {d["id"] for d in read_jsonl(target)} if target.is_file() else set()
        new = [r for r in rows if r["id"] not in known]
        with target.open("a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in new)
        print(f"{batch}: {len(new)} decisions appended")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    second = sub.add_parser("second-reading")
    second.add_argument("batch")
    second.add_argument("--out", type=Path, required=True)
    second.add_argument("--seed", type=int, default=7)
    adjudicate = sub.add_parser("adjudication")
    adjudicate.add_argument("batches", nargs="+")
    adjudicate.add_argument("--out", type=Path, required=True)
    split = sub.add_parser("split-adjudication")
    split.add_argument("file", type=Path)
    args = parser.parse_args()
    if args.command == "second-reading":
        second_reading(args.batch, args.out, args.seed)
    elif args.command == "adjudication":
        adjudication(args.batches, args.out)
    else:
        split_adjudication(args.file)


if __name__ == "__main__":
    main()
