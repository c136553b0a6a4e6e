"""Build data/corpus.jsonl and data/plover_test.jsonl from the hand labels in data/labels/.

Real units: the label files hold (line, label, hard, note) for lines of the shared corpora
(../shared/corpora/<name>/statements.jsonl); the text, origin, speaker and date are copied
from there unchanged. Authored units: the label files hold the text itself.

Splits are grouped: rows of one source document, rows whose normalised texts are equal,
and rows whose frozen-encoder embeddings are near-identical (cosine >= 0.92) share a group,
and a group's split is a stable hash of its first id (about 80/10/10).

Run from the project root: python data/build_corpus.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np
from diplostance.train.data import split_for_group

HERE = Path(__file__).resolve().parent
REAL = {"wh": "wh-briefing-room", "un": "ungdc"}
NEAR_DUPLICATE_COSINE = 0.92


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def real_rows(shared: Path) -> list[dict]:
    rows = []
    for path in sorted((HERE / "labels").glob("real_*.jsonl")):
        prefix = path.stem.split("_")[1]
        source = read_jsonl(shared / "corpora" / REAL[prefix] / "statements.jsonl")
        for label in read_jsonl(path):
            rows.append(labelled_unit(f"{prefix}-{label['line']:04d}", source[label["line"] - 1], label))
    return rows


def labelled_unit(row_id: str, unit: dict, label: dict) -> dict:
    """A real unit, its text and provenance copied unchanged from the shared corpus, with its hand label."""
    return {
        "id": row_id,
        "text": unit["text"],
        "label": label["label"],
        "source": "real",
        "origin": unit["origin"],
        "speaker_or_source": unit["speaker_or_source"],
        "date": unit["date"],
        "hard": bool(label["hard"]),
    }


def authored_rows() -> list[dict]:
    rows = []
    for path in sorted((HERE / "labels").glob("authored_*.jsonl")):
        batch = path.stem.removeprefix("authored_")
        for n, item in enumerate(read_jsonl(path), 1):
            rows.append(
                {
                    "id": f"au-{batch}-{n:04d}",
                    "text": item["text"].strip(),
                    "label": item["label"],
                    "source": "authored",
                    "origin": f"diplostance authored/{batch}#{n}",
                    "speaker_or_source": f"{item.get('government', '')} ({item.get('register', '')})",
                    "date": None,
                    "hard": bool(item["hard"]),
                }
            )
    return rows


class Groups:
    """Union-find over row indices."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def embed(texts: list[str]) -> np.ndarray:
    from diplostance.train.baselines import FrozenEncoder

    return FrozenEncoder().encode(texts)


def assign_splits(rows: list[dict]) -> None:
    groups = Groups(len(rows))
    first_by_key: dict[str, int] = {}
    for i, row in enumerate(rows):
        for key in (("origin", row["origin"]) if row["source"] == "real" else None, ("text", normalise(row["text"]))):
            if key is None:
                continue
            if key in first_by_key:
                groups.union(i, first_by_key[key])
            else:
                first_by_key[key] = i
    vectors = embed([r["text"] for r in rows])
    similarity = vectors @ vectors.T
    for i, j in zip(*np.nonzero(np.triu(similarity, k=1) >= NEAR_DUPLICATE_COSINE)):
        groups.union(int(i), int(j))
    for i, row in enumerate(rows):
        row["split"] = split_for_group(rows[groups.find(i)]["id"])


def plover_rows(shared: Path) -> list[dict]:
    source = read_jsonl(shared / "corpora" / "plover-gsr" / "statements.jsonl")
    rows = []
    for label in read_jsonl(HERE / "labels" / "plover.jsonl"):
        unit = labelled_unit(f"plover-{label['line']:03d}", source[label["line"] - 1], label)
        rows.append(unit | {"split": "test"})
    return rows


FIELDS = ("id", "text", "label", "source", "origin", "speaker_or_source", "date", "split", "hard")


def write(rows: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({k: row[k] for k in FIELDS}, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    args = parser.parse_args()
    rows = real_rows(args.shared) + authored_rows()
    assign_splits(rows)
    write(rows, HERE / "corpus.jsonl")
    write(plover_rows(args.shared), HERE / "plover_test.jsonl")
    print(f"corpus: {len(rows)} rows; plover: {len(read_jsonl(HERE / 'plover_test.jsonl'))} rows")


if __name__ == "__main__":
    main()
