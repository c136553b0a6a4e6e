"""Checks on the real fine-tuned model (trained by `make demo`; CI runs it before the suite)."""

from __future__ import annotations

import json

import pytest
from diplostance.infer import StanceClassifier
from diplostance.model.metrics import classification_metrics
from diplostance.train.data import CORPUS_FILE, load_examples

pytestmark = pytest.mark.real_model

CONDITIONAL = [
    ("We will receive those confirmed as our nationals after verification.", "after verification"),
    ("Talks can resume once sanctions are lifted.", "once sanctions are lifted"),
    (
        "The ministry said it would reopen the border crossing as soon as the shelling stops.",
        "as soon as the shelling stops",
    ),
    (
        "Our inspectors can return provided that full access to all sites is guaranteed.",
        "provided that full access to all sites is guaranteed",
    ),
    (
        "Tariffs will come down to the extent that our partners lower theirs.",
        "to the extent that our partners lower theirs",
    ),
    (
        "Extradition will be considered only when the court receives written guarantees against the death penalty.",
        "only when the court receives written guarantees",
    ),
    (
        "We are ready to sign the fisheries protocol, subject to parliamentary approval.",
        "subject to parliamentary approval",
    ),
    (
        "Grain shipments will continue as long as the corridor remains demilitarised.",
        "as long as the corridor remains demilitarised",
    ),
    (
        "The prisoner exchange can go ahead if both lists are confirmed by the Red Cross.",
        "if both lists are confirmed by the Red Cross",
    ),
    (
        "Aid convoys may enter on condition that they are inspected at the crossing.",
        "on condition that they are inspected",
    ),
]


@pytest.fixture(scope="module")
def onnx_model(real_model) -> StanceClassifier:
    return StanceClassifier.from_pretrained(real_model, backend="onnx")


def overlaps(span, text: str, phrase: str) -> bool:
    start = text.index(phrase)
    return span.start < start + len(phrase) and start < span.end


def test_condition_phrase_is_among_the_evidence(onnx_model):
    hits = 0
    for text, phrase in CONDITIONAL:
        prediction = onnx_model.predict(text, explain=True)[0]
        if prediction.label == "conditional" and any(overlaps(s, text, phrase) for s in prediction.evidence):
            hits += 1
    # All ten are labelled conditional; the default model of 2026-12-02 (with the prior shift, whose raised
    # `none` often becomes the runner-up the margin is taken against) puts the phrase in 7 evidence lists.
    assert hits >= 7, f"condition phrase found in the evidence of {hits}/10 conditional statements"


def test_onnx_int8_keeps_the_torch_models_accuracy(real_model, onnx_model):
    test = [e for e in load_examples([CORPUS_FILE]) if e.split == "test"]
    texts, gold = [e.text for e in test], [e.label for e in test]
    torch_labels = [p.label for p in StanceClassifier.from_pretrained(real_model, backend="torch").predict(texts)]
    onnx_labels = [p.label for p in onnx_model.predict(texts)]
    agreement = sum(a == b for a, b in zip(torch_labels, onnx_labels)) / len(texts)
    f1_torch = classification_metrics(gold, torch_labels)["macro_f1"]
    f1_onnx = classification_metrics(gold, onnx_labels)["macro_f1"]
    assert agreement >= 0.99 and abs(f1_torch - f1_onnx) <= 0.01, (agreement, f1_torch, f1_onnx)


def test_calibration_is_recorded_and_applied(real_model, onnx_model):
    metrics = json.loads((real_model / "metrics.json").read_text())
    assert metrics["temperature"] == pytest.approx(onnx_model.temperature)
    assert 0 <= metrics["test"]["ece"] <= 1 and "ece_before_calibration" in metrics["test"]
    card = (real_model / "README.md").read_text()
    assert f"{metrics['test']['macro_f1']:.3f}" in card and "calibration" in card
