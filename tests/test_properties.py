"""Property tests: arbitrary input to the Python API and the file readers gives a prediction,
a recorded row error, or a clear ValueError/TypeError, never another exception."""

from __future__ import annotations

import json

import pytest
from diplostance.infer import StanceClassifier
from diplostance.infer.records import read_records
from diplostance.model.labels import LABELS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

anything = st.one_of(
    st.text(max_size=300),
    st.text(min_size=2000, max_size=6000),
    st.none(),
    st.integers(),
    st.floats(allow_nan=True),
    st.binary(max_size=50),
    st.lists(st.text(max_size=20), max_size=3),
)


@pytest.fixture(scope="module")
def classifier(tiny_model) -> StanceClassifier:
    return StanceClassifier.from_pretrained(tiny_model, backend="onnx")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(items=st.lists(anything, max_size=6))
def test_api_predicts_or_raises_a_clear_error(classifier, items):
    try:
        predictions = classifier.predict(items)
    except (TypeError, ValueError) as error:
        assert "index" in str(error)
        return
    assert len(predictions) == len(items)
    assert all(p.label in LABELS and 0.0 <= p.confidence <= 1.0 for p in predictions)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(anything, min_size=1, max_size=8), junk=st.binary(max_size=40))
def test_jsonl_reader_accounts_for_every_line(tmp_path_factory, values, junk):
    path = tmp_path_factory.mktemp("prop") / "in.jsonl"
    lines = [json.dumps({"text": v}) if not isinstance(v, bytes) else json.dumps({"text": v.hex()}) for v in values]
    payload = "\n".join(lines).encode() + b"\n" + junk.replace(b"\n", b" ") + b"\n"
    path.write_bytes(payload)
    records = list(read_records(path))
    expected = len(values) + (1 if junk.replace(b"\n", b" ").strip() else 0)
    assert len(records) == expected
    for record in records:
        assert (record.text is None) != (record.error is None)
        if record.text is not None:
            assert isinstance(record.text, str) and record.text.strip()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(
        st.text(st.characters(exclude_characters="\r", exclude_categories=["Cs"]), max_size=40), min_size=1, max_size=8
    )
)
def test_csv_reader_accounts_for_every_record(tmp_path_factory, cells):
    """Bare carriage returns are left out: Python's csv writer does not quote them, so no reader
    can tell them from line ends. Lone surrogates too: no UTF-8 file can hold one (undecodable bytes
    have their own tests in test_hostile_inputs.py)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "text"])
    writer.writerows([[i, cell] for i, cell in enumerate(cells)])
    path = tmp_path_factory.mktemp("prop") / "in.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    with path.open(newline="", encoding="utf-8") as handle:  # the standard library's reading is the oracle
        expected = [row[1] for row in list(csv.reader(handle))[1:]]
    records = list(read_records(path))
    assert len(records) == len(cells) == len(expected)
    for record, cell in zip(records, expected):
        assert record.text == (cell if cell.strip() else None)
