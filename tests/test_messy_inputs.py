"""Messy files: every row accounted for, with a reason where it could not be scored."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from diplostance.infer import StanceClassifier
from diplostance.infer.job import ScoreConfig, ScoreJob
from diplostance.infer.records import InputError, ReadStats, read_records
from helpers import read_rows


@pytest.fixture(scope="module")
def classifier(tiny_model) -> StanceClassifier:
    return StanceClassifier.from_pretrained(tiny_model, backend="onnx")


def test_messy_jsonl(classifier, tmp_path):
    source = tmp_path / "messy.jsonl"
    source.write_bytes(
        b'{"id": 1, "text": "We reject the proposal."}\n'
        b"\n"
        b'{"id": 2, "text": "unterminated\n'
        b'{"id": 3}\n'
        b'{"id": 4, "text": 17}\n'
        b'{"id": 5, "text": null}\n'
        b'{"id": 6, "text": "   "}\n'
        b"[1, 2, 3]\n"
        b'{"id": 8, "text": "caf\xe9 au lait"}\n'
        + json.dumps({"id": 9, "text": "Мы отказываемся \u0000 \u0007 拒绝 🚫"}).encode()
        + b"\n"
        + b'{"id": 10, "text": "Talks can resume once the sanctions are lifted."}'
    )
    out = tmp_path / "out.jsonl"
    summary = ScoreJob(classifier, ScoreConfig(input=source, output=out, progress=False)).run()
    rows = read_rows(out)
    assert summary.rows == len(rows) == 10 and summary.blank_lines == 1
    errors = [r["error"] for r in rows]
    assert errors[0] is None and errors[9] is None
    assert "line 3: malformed JSON" in errors[1]
    assert "line 4: missing 'text' field" in errors[2]
    assert "line 5: 'text' is int, not a string" in errors[3]
    assert "line 6: 'text' is null" in errors[4]
    assert "line 7: 'text' is empty" in errors[5]
    assert "line 8: a JSON list, not an object" in errors[6]
    assert "line 9: undecodable bytes" in errors[7]
    assert errors[8] is None and rows[8]["stance"]  # Cyrillic, Chinese and control characters are scored


def test_csv_with_a_broken_quote_loses_only_that_row(classifier, tmp_path):
    source = tmp_path / "messy.csv"
    source.write_text(
        "id,text\n"
        '1,"We reject the proposal."\n'
        '2,"A statement over\ntwo lines, quoted properly."\n'
        '3,"This quote never closes\n'
        "4,We welcome the agreement.\n"
        "5,too,many,fields\n"
        "6,\n"
        '7,"Talks can resume once the sanctions are lifted."\n'
    )
    out = tmp_path / "out.csv"
    summary = ScoreJob(classifier, ScoreConfig(input=source, output=out, progress=False)).run()
    rows = read_rows(out)
    assert summary.rows == len(rows) == 7
    by_line = {r["id"]: r for r in rows if r["id"]}
    assert set(by_line) == {"1", "2", "4", "6", "7"}
    assert by_line["2"]["error"] == "" and by_line["2"]["stance"]
    errors = [r["error"] for r in rows]
    assert any("line 5: unclosed quote" in e for e in errors)
    assert any("line 7: expected 2 fields, found 4" in e for e in errors)
    assert "'text' is empty" in by_line["6"]["error"]
    assert by_line["7"]["error"] == "" and by_line["4"]["error"] == ""


def test_parquet_with_nulls(classifier, tmp_path):
    source = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3], "text": ["We reject it.", None, "We welcome it."]}), source)
    out = tmp_path / "out.parquet"
    ScoreJob(classifier, ScoreConfig(input=source, output=out, progress=False)).run()
    rows = read_rows(out)
    assert [r["error"] for r in rows] == [None, "line 2: 'text' is null", None]
    assert rows[1]["stance"] is None and rows[0]["p_none"] is not None


def test_file_level_problems_raise_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        list(read_records(tmp_path / "missing.jsonl"))
    with pytest.raises(InputError, match="unsupported extension '.txt'"):
        list(read_records(tmp_path / "notes.txt"))
    (tmp_path / "t.csv").write_text("id,body\n1,hello\n")
    with pytest.raises(InputError, match="no column 'text' \\(columns: id, body\\); use --text-column"):
        list(read_records(tmp_path / "t.csv"))
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not parquet")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        list(read_records(tmp_path / "bad.parquet"))
    stats = ReadStats()
    (tmp_path / "ok.csv").write_text("body\nhello\n")
    assert [r.text for r in read_records(tmp_path / "ok.csv", "body", stats)] == ["hello"]
    assert stats.columns == ["body"]
