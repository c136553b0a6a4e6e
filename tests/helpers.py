"""Small builders shared by the scoring tests."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

STATEMENTS = [
    "We categorically reject the proposal.",
    "Talks can resume once the sanctions are lifted.",
    "The meeting took place on Tuesday.",
    "We welcome the agreement and will implement it.",
    "Our government is not in a position to extradite the suspect at this time.",
    "We will accept returnees confirmed as nationals after verification.",
]


def statement_rows(n: int) -> list[dict]:
    return [{"id": f"r{i}", "text": f"{STATEMENTS[i % len(STATEMENTS)]} ({i})", "n": i} for i in range(n)]


def write_rows(rows: list[dict], path: Path) -> Path:
    """Write rows as JSONL, CSV or Parquet by the path's extension."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif path.suffix == ".csv":
        import csv

        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def read_rows(path: Path) -> list[dict]:
    """Read a scored file back as a list of dicts (CSV values are strings)."""
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines()]
    if path.suffix == ".csv":
        import csv

        with path.open(newline="") as handle:
            return list(csv.DictReader(handle))
    return pq.read_table(path).to_pylist()
