"""The Python API: shapes, order, input checks, abstention, backends."""

from __future__ import annotations

import numpy as np
import pytest
from diplostance.infer import Prediction, StanceClassifier
from diplostance.model.labels import LABELS, NONE_LABEL

TEXTS = [
    "We reject it.",
    "Talks can resume once the sanctions are lifted and the prisoners are released, the minister said on Monday.",
    "The meeting took place on Tuesday.",
    "We welcome the agreement.",
    "On the basis of mutual respect, we are willing to work with all parties on the ceasefire and on the return "
    "of displaced people, and we expect the committee to meet again next month to review progress.",
] * 3


@pytest.fixture(scope="module", params=["torch", "bf16", "onnx"])
def classifier(request, tiny_model) -> StanceClassifier:
    return StanceClassifier.from_pretrained(tiny_model, backend=request.param, batch_size=4)


def test_predict_proba_shape_order_and_rows_sum_to_one(classifier):
    proba = classifier.predict_proba(TEXTS)
    assert proba.shape == (len(TEXTS), len(LABELS))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert classifier.labels == LABELS


def test_batched_result_equals_one_at_a_time_in_input_order(classifier):
    together = classifier.predict_proba(TEXTS)
    alone = np.vstack([classifier.predict_proba(text) for text in TEXTS])
    if classifier.backend.name in ("onnx", "bf16"):  # one row per call / one batch shape: exact
        np.testing.assert_array_equal(together, alone)
    else:  # batched float math: equal up to summation order
        np.testing.assert_allclose(together, alone, atol=1e-6)


def test_predict_returns_predictions_matching_proba(classifier):
    predictions = classifier.predict(TEXTS)
    proba = classifier.predict_proba(TEXTS)
    assert all(isinstance(p, Prediction) for p in predictions)
    assert [p.label for p in predictions] == [LABELS[i] for i in proba.argmax(axis=1)]
    assert set(predictions[0].probabilities) == set(LABELS)
    assert predictions[0].confidence == pytest.approx(proba[0].max())


def test_single_string_and_generators_are_accepted(classifier):
    assert len(classifier.predict("We reject it.")) == 1
    assert len(classifier.predict(t for t in TEXTS[:3])) == 3
    assert classifier.predict_proba([]).shape == (0, len(LABELS))


@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (None, TypeError, "not NoneType"),
        (42, TypeError, "not int"),
        (b"bytes", TypeError, "not bytes"),
        (["ok", 3], TypeError, "index 1 is int"),
        (["ok", None], TypeError, "index 1 is NoneType"),
        (["ok", "   "], ValueError, "index 1 is empty"),
    ],
)
def test_bad_input_gives_a_clear_error(classifier, bad, error, message):
    with pytest.raises(error, match=message):
        classifier.predict(bad)


def test_min_confidence_abstains_to_none(classifier):
    everything = classifier.predict(TEXTS, min_confidence=1.0)
    assert all(p.label == NONE_LABEL and p.abstained for p in everything)
    nothing = classifier.predict(TEXTS, min_confidence=0.0)
    assert not any(p.abstained for p in nothing)
    with pytest.raises(ValueError, match="between 0 and 1"):
        classifier.predict(TEXTS, min_confidence=1.5)


def test_overlong_text_is_truncated_not_rejected(classifier):
    long_text = "We will cooperate fully with the inspectors. " * 400
    assert classifier.predict(long_text)[0].label in LABELS


def test_onnx_agrees_with_torch(tiny_model):
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS * 4)]
    torch_proba = StanceClassifier.from_pretrained(tiny_model, backend="torch").predict_proba(texts)
    onnx_proba = StanceClassifier.from_pretrained(tiny_model, backend="onnx").predict_proba(texts)
    agreement = (torch_proba.argmax(axis=1) == onnx_proba.argmax(axis=1)).mean()
    assert agreement >= 0.99
    assert np.abs(torch_proba - onnx_proba).max() < 0.05


def test_unknown_backend_is_refused(tiny_model):
    with pytest.raises(ValueError, match="unknown backend 'gpu'"):
        StanceClassifier.from_pretrained(tiny_model, backend="gpu")
