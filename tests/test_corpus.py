"""The bundled corpus: schema, balance, splits without leaks, and the external PLOVER set kept apart."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from diplostance.model.issues import ISSUES
from diplostance.model.labels import LABELS, STANCES

DATA = Path(__file__).resolve().parent.parent / "data"
FIELDS = {
    "id", "text", "label", "source", "origin", "speaker_or_source", "date", "split", "hard",
    "actor", "counterpart", "issue", "pair", "context",
}  # fmt: skip
SPLITS = ("train", "dev", "test", "heldout_dev", "heldout_test")
NEAR_DUPLICATE_COSINE = 0.92


def rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return rows("corpus.jsonl")


def test_schema_and_values(corpus):
    plover = rows("plover_test.jsonl")
    for row in corpus + plover:
        assert set(row) == FIELDS, row["id"]
        assert row["label"] in LABELS and row["split"] in SPLITS
        assert row["source"] in ("real", "authored") and isinstance(row["hard"], bool)
        assert row["text"].strip()
    assert len({r["id"] for r in corpus + plover}) == len(corpus) + len(plover)


def test_issues_and_actors_follow_the_codebook(corpus):
    codes = re.compile(r"^(?:[A-Z]{3}|EU|UN|NATO|AU|ASEAN|GCC|OAS|ECOWAS|G7|G20|IAEA|WHO|ICC)$")
    assert {r["issue"] for r in corpus} - {None} <= set(ISSUES)
    assert sum(r["issue"] is not None for r in corpus) > 5000
    bad_actors = [r["actor"] for r in corpus if r["actor"] is not None and not codes.match(r["actor"])]
    assert len(bad_actors) < 0.01 * len(corpus), sorted(set(bad_actors))[:20]


def test_sizes_and_balance(corpus):
    by_source = Counter(r["source"] for r in corpus)
    assert by_source["real"] >= 1500 and by_source["authored"] >= 1500
    shares = {label: n / len(corpus) for label, n in Counter(r["label"] for r in corpus).items()}
    # Real text holds fewer conditionals than authored sets (8,120 real units put conditional at 15.0% of the
    # corpus); the floor catches a build that loses a class, not the natural share of real transcripts.
    assert all(shares[label] >= 0.12 for label in STANCES), shares
    assert shares["none"] >= 0.15, shares
    authored = [r for r in corpus if r["source"] == "authored"]
    assert sum(r["hard"] for r in authored) >= len(authored) / 3


def test_real_units_are_verbatim_from_the_shared_corpora(corpus):
    shared = DATA.parent.parent / "shared" / "corpora"
    if not shared.is_dir():
        pytest.skip(f"the shared corpora are not at {shared}")
    sources = {}
    for path in shared.glob("*/*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            unit = json.loads(line)
            sources.setdefault(unit["origin"], set()).add(unit["text"])
    real = [r for r in corpus if r["source"] == "real"]
    assert all(r["text"] in sources.get(r["origin"], ()) for r in real)


def test_splits_are_about_80_10_10_and_test_has_real_units_of_every_label(corpus):
    in_distribution = [r for r in corpus if not r["split"].startswith("heldout")]
    splits = Counter(r["split"] for r in in_distribution)
    assert 0.75 <= splits["train"] / len(in_distribution) <= 0.85
    real_test = Counter(r["label"] for r in corpus if r["split"] == "test" and r["source"] == "real")
    assert all(real_test[label] > 0 for label in LABELS), real_test


def test_no_document_or_duplicate_straddles_splits(corpus):
    split_of: dict[str, set[str]] = {}
    for row in corpus:
        # held-out rows are grouped by delegation or address instead (an origin file may hold many addresses)
        by_document = row["source"] == "real" and not row["split"].startswith("heldout")
        keys = [normalise(row["text"])] + ([row["origin"]] if by_document else [])
        for key in keys:
            split_of.setdefault(key, set()).add(row["split"])
    leaks = [key for key, splits in split_of.items() if len(splits) > 1]
    assert not leaks, leaks[:3]
    corpus_texts = {normalise(r["text"]) for r in corpus}
    assert not [r for r in rows("plover_test.jsonl") if normalise(r["text"]) in corpus_texts]


def test_held_out_sources_never_reach_training(corpus):
    """The Ukrainian presidency and the held-out UN delegations are only ever in the held-out splits,
    both members of a counterfactual pair share a split, and the teacher's file holds no held-out text."""
    sys.path.insert(0, str(DATA / "annotation"))
    from make_slices import delegation, heldout_delegation

    for row in corpus:
        speaker = row["speaker_or_source"] or ""
        held = row["origin"].startswith("Amice13/resistinua") or (
            "delegation, UN General Debate" in speaker and heldout_delegation(delegation(speaker))
        )
        assert not held or row["split"].startswith("heldout"), row["id"]
    pair_splits: dict[str, set[str]] = {}
    for row in corpus:
        if row["pair"]:
            pair_splits.setdefault(row["pair"], set()).add(row["split"])
    assert all(len(s) == 1 for s in pair_splits.values())
    heldout = {normalise(r["text"]) for r in corpus if r["split"].startswith("heldout")}
    assert heldout, "the corpus has no held-out rows"
    teacher = DATA / "distill" / "teacher_logits.jsonl"
    if teacher.is_file():
        rows = [json.loads(line) for line in teacher.read_text(encoding="utf-8").splitlines()]
        leaked = [r["id"] for r in rows if normalise(r["text"]) in heldout]
        assert not leaked, leaked[:3]


@pytest.mark.real_encoder
def test_no_near_duplicate_crosses_a_split(corpus):
    from diplostance.train.baselines import FrozenEncoder

    vectors = FrozenEncoder().encode([r["text"] for r in corpus])
    splits = np.array([r["split"] for r in corpus])
    for held_out in ("dev", "test", "heldout_dev", "heldout_test"):
        similarity = vectors[splits == held_out] @ vectors[splits != held_out].T
        assert similarity.max() < NEAR_DUPLICATE_COSINE, f"{held_out}: max cosine {similarity.max():.3f}"


def test_datasheet_shows_the_tables_the_data_gives():
    sys.path.insert(0, str(DATA))
    from stats import render

    datasheet = (DATA / "README.md").read_text(encoding="utf-8")
    shown = datasheet.split("<!-- stats:begin -->\n")[1].split("<!-- stats:end -->")[0]
    assert shown == render(), "data/README.md is out of date: paste the output of `python data/stats.py`"
