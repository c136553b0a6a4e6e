"""Build data/corpus.jsonl and data/plover_test.jsonl from the hand labels in data/labels/ and
the double-annotated batches in data/annotation/final/.

Real units: the label files hold (line, label, hard, note) for lines of the shared corpora
(../shared/corpora/<name>/statements.jsonl), the annotation batches hold labels for pool ids;
the text, origin, speaker and date are always copied from the shared corpora unchanged.
Authored units and counterfactual pairs: the files hold the text itself.

Splits. Two held-out sources are kept out of training in every form (labels, soft labels,
near-duplicates): the Ukrainian presidency's addresses, the UN delegations that
``annotation/make_slices.heldout_delegation`` selects, and the helper-written held-out batch.
They form ``heldout_dev`` and ``heldout_test`` (by address, by delegation, by statement).
Everything else gets train/dev/test, about 80/10/10, grouped: rows of one source document,
both members of a counterfactual pair, rows with equal normalised text and rows whose
frozen-encoder embeddings are near-identical (cosine >= 0.92) share a group, and a group's
split is a stable hash of its first id. A group that touches a held-out row is held out whole.

Run from the project root: python data/build_corpus.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
from diplostance.model.labels import LABELS
from diplostance.train.data import split_for_group

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "annotation"))
from make_slices import delegation, heldout_delegation  # noqa: E402

REAL = {"wh": "wh-briefing-room", "un": "ungdc"}
POOLS = {"whp": "wh-briefing-room/pool.jsonl", "ungp": "ungdc/pool.jsonl", "ua": "ukraine-president/statements.jsonl"}
NEAR_DUPLICATE_COSINE = 0.92
FIELDS = (
    "id", "text", "label", "source", "origin", "speaker_or_source", "date", "split", "hard",
    "actor", "counterpart", "issue", "pair", "context",
)  # fmt: skip


ISSUE_ALIASES = {
    "trade": "trade_tariffs",
    "critical_minerals": "trade_tariffs",
    "debt": "debt_relief",
    "energy": "energy_supply",
    "pandemics": "pandemic_vaccines",
    "investigations": "investigation",
    "humanitarian_access": "humanitarian_aid_access",
    "humanitarian aid": "humanitarian_aid_access",
    "ceasefires and peace talks": "ceasefire_peace_talks",
    "territorial and maritime disputes": "territorial_dispute",
    "arms control": "arms_control",
    "intelligence sharing": "intelligence_sharing",
    "peacekeeping": "military_cooperation",
    "military basing and overflight rights": "military_cooperation",
    "nuclear inspections": "nuclear_programme_inspections",
    "water": "water_sharing",
    "hydropower_rivers": "water_sharing",
    "refugees": "migration_deportation",
    "border management": "migration_deportation",
    "organised_crime_drugs": "counternarcotics",
    "elections_observers": "elections",
    "food_security_grain": "food_security",
    "cultural_restitution": "cultural_property",
    "asset_freezes": "sanctions",
    "diplomatic contacts": "diplomatic_relations",
    "diplomatic expulsions": "diplomatic_relations",
    "fisheries": "other",
    "shipping_ports": "other",
    "aviation_overflight": "other",
    "polar": "other",
    "space_satellites": "other",
    "ai_governance": "other",
    "academic_exchanges": "other",
    "sports_culture": "other",
    "border_crossings_trucking": "other",
    "security": "other",
}
"""The first round's free-form issues (its writers' briefs) in the taxonomy of docs/CODEBOOK.md."""
NO_MATTER = {
    "domestic",
    "meeting description",
    "procedural",
    "history",
    "schedule",
    "statistics",
    "event",
    "analysis",
    "condolence",
    "commemoration",
    "greeting",
    "logistics",
    "thanks to host",
}
"""Topics the first round gave `none` units with no matter at hand: the taxonomy's null."""


def taxonomy_issue(value: str | None) -> str | None:
    """An annotated issue as a code of the taxonomy (tests/test_corpus.py checks every row)."""
    if value is None or value in NO_MATTER:
        return None
    return ISSUE_ALIASES.get(value, value)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def half(key: str) -> str:
    """heldout_dev or heldout_test, by a stable hash of a group key."""
    return "heldout_dev" if int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 2 == 0 else "heldout_test"


def real_unit(row_id: str, unit: dict, label: dict) -> dict:
    """A real unit, its text and provenance copied unchanged from the shared corpus, with its label."""
    heldout = None
    if "delegation, UN General Debate" in unit["speaker_or_source"]:
        iso3 = delegation(unit["speaker_or_source"])
        heldout = half(f"delegation:{iso3}") if heldout_delegation(iso3) else None
    elif unit["origin"].startswith("Amice13/resistinua"):
        heldout = half(f"address:{unit.get('video_id') or unit['doc_title']}")
    return {
        "id": row_id,
        "text": unit["text"],
        "label": label["label"],
        "source": "real",
        "origin": unit["origin"],
        "speaker_or_source": unit["speaker_or_source"],
        "date": unit["date"],
        "hard": bool(label.get("hard")),
        **{k: label.get(k) for k in ("actor", "counterpart")},
        "issue": taxonomy_issue(label.get("issue")),
        "pair": None,
        "context": unit.get("question"),
        "heldout": heldout,
    }


def v1_relabels() -> tuple[dict[str, dict], set[str]]:
    """Final labels of the second reading of the first 2,000 real units (batches of kind ``v1real``),
    and every id those batches cover (an id covered but not final was dropped as ambiguous)."""
    batches = json.loads((HERE / "annotation" / "batches.json").read_text())
    finals, covered = {}, set()
    for name, spec in batches.items():
        if spec["kind"] != "v1real" or len(spec["readings"]) < 2:
            continue
        second = HERE / "annotation" / "readings" / name / f"{spec['readings'][1]}.jsonl"
        if second.is_file():
            covered |= {row["id"] for row in read_jsonl(second)}
            finals |= {row["id"]: row for row in read_jsonl(HERE / "annotation" / "final" / f"{name}.jsonl")}
    return finals, covered


def v1_real_rows(shared: Path) -> list[dict]:
    finals, covered = v1_relabels()
    rows = []
    for path in sorted((HERE / "labels").glob("real_*.jsonl")):
        prefix = path.stem.split("_")[1]
        source = read_jsonl(shared / "corpora" / REAL[prefix] / "statements.jsonl")
        for label in read_jsonl(path):
            row_id = f"{prefix}-{label['line']:04d}"
            if row_id in covered and row_id not in finals:
                continue
            rows.append(real_unit(row_id, source[label["line"] - 1], finals.get(row_id, label)))
    return rows


def v1_authored_rows() -> list[dict]:
    rows = []
    for path in sorted((HERE / "labels").glob("authored_*.jsonl")):
        batch = path.stem.removeprefix("authored_")
        for n, item in enumerate(read_jsonl(path), 1):
            rows.append(authored_unit(f"au-{batch}-{n:04d}", item, f"diplostance authored/{batch}#{n}", None))
    return rows


def authored_unit(row_id: str, item: dict, origin: str, heldout: str | None) -> dict:
    return {
        "id": row_id,
        "text": item["text"].strip(),
        "label": item["label"],
        "source": "authored",
        "origin": origin,
        "speaker_or_source": f"{item.get('actor') or item.get('government', '')} ({item.get('register', '')})",
        "date": None,
        "hard": bool(item.get("hard")),
        **{k: item.get(k) for k in ("actor", "counterpart")},
        "issue": taxonomy_issue(item.get("issue")),
        "pair": item.get("pair"),
        "context": None,
        "heldout": heldout,
    }


def annotated_rows(shared: Path) -> list[dict]:
    """Rows of every merged annotation batch (``annotation/final``), real or written."""
    batches = json.loads((HERE / "annotation" / "batches.json").read_text())
    pool = {}
    for path in POOLS.values():
        pool.update({u["id"]: u for u in read_jsonl(shared / "corpora" / path)})
    rows = []
    for name, spec in batches.items():
        path = HERE / "annotation" / "final" / f"{name}.jsonl"
        if spec["kind"] == "v1real" or not path.is_file():
            continue
        for item in read_jsonl(path):
            if spec["kind"] == "real":
                rows.append(real_unit(item["id"], pool[item["id"]], item))
            else:
                heldout = half(f"authored:{item['id']}") if spec["heldout"] else None
                rows.append(authored_unit(item["id"], item, f"diplostance annotation/{name}#{item['id']}", heldout))
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
    first_by_key: dict[tuple, int] = {}
    for i, row in enumerate(rows):
        keys = [("text", normalise(row["text"]))]
        if row["source"] == "real" and not row["heldout"]:
            keys.append(("origin", row["origin"]))
        if row["pair"]:
            keys.append(("pair", row["pair"]))
        for key in keys:
            if key in first_by_key:
                groups.union(i, first_by_key[key])
            else:
                first_by_key[key] = i
    vectors = embed([r["text"] for r in rows])
    for start in range(0, len(rows), 2048):
        similarity = vectors[start : start + 2048] @ vectors.T
        for i, j in zip(*np.nonzero(similarity >= NEAR_DUPLICATE_COSINE)):
            if start + i < j:
                groups.union(int(start + i), int(j))
    heldout_of_group: dict[int, str] = {}
    for i, row in enumerate(rows):
        if row["heldout"]:
            heldout_of_group.setdefault(groups.find(i), row["heldout"])
    for i, row in enumerate(rows):
        root = groups.find(i)
        row["split"] = heldout_of_group.get(root) or split_for_group(rows[root]["id"])


def plover_rows(shared: Path) -> list[dict]:
    source = read_jsonl(shared / "corpora" / "plover-gsr" / "statements.jsonl")
    rows = []
    for label in read_jsonl(HERE / "labels" / "plover.jsonl"):
        unit = real_unit(f"plover-{label['line']:03d}", source[label["line"] - 1], label)
        rows.append(unit | {"split": "test"})
    return rows


def relabelled(rows: list[dict]) -> list[dict]:
    """The rows after the decisions of the label-error review (``annotation/relabels/<pass>.jsonl``:
    ``keep``, ``drop`` or a new label on rows cleanlab flagged: two independent reviews, a third reader where
    they differ; ``annotation/relabel.py``)."""
    decisions = {}
    for path in sorted((HERE / "annotation" / "relabels").glob("*.jsonl")):
        if not path.stem.endswith("-flagged"):
            for decision in read_jsonl(path):
                if decision["label"] not in {"keep", "drop", *LABELS}:
                    raise ValueError(f"{path}: {decision['id']}: invalid decision {decision['label']!r}")
                decisions[decision["id"]] = decision["label"]
    kept = []
    for row in rows:
        decision = decisions.get(row["id"], "keep")
        if decision == "drop":
            continue
        kept.append(row if decision == "keep" else row | {"label": decision})
    return kept


def write(rows: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({k: row[k] for k in FIELDS}, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parent.parent / "shared")
    args = parser.parse_args()
    rows = relabelled(v1_real_rows(args.shared) + v1_authored_rows() + annotated_rows(args.shared))
    assign_splits(rows)
    write(rows, HERE / "corpus.jsonl")
    write(plover_rows(args.shared), HERE / "plover_test.jsonl")
    counts = {s: sum(r["split"] == s for r in rows) for s in ("train", "dev", "test", "heldout_dev", "heldout_test")}
    print(f"corpus: {len(rows)} rows {counts}; plover: {len(read_jsonl(HERE / 'plover_test.jsonl'))} rows")


if __name__ == "__main__":
    main()
