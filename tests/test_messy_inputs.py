"""Messy files: every row accounted for, with a reason where it could not be scored."""

from __future__ import annotations

import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from diplostance.infer import StanceClassifier, records
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


def _csv_reference(path) -> list[list[str]]:
    """The records Python's csv module reads (RFC 4180): the reference row count of a CSV input."""
    with open(path, encoding="utf-8", newline="") as handle:
        return [record for record in csv.reader(handle) if record][1:]


def test_csv_rows_are_the_records_the_csv_module_reads(classifier, tmp_path):
    source = tmp_path / "messy.csv"
    lines = ["id,text"] + [f"{n},We welcome the agreement number {n}." for n in range(1, 53)]
    lines[3] = '3,Delivery of 5" screens is approved.'  # a bare quote inside an unquoted field is a character
    lines[50] = '50,A 3" pipe will be supplied as agreed.'
    lines[10] = '10,"A quoted statement over\n' + "\n".join(["several lines"] * 250) + '"'
    lines[20] = "20,too,many,fields"
    lines[30] = "30,"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    summary = ScoreJob(classifier, ScoreConfig(input=source, output=out, progress=False)).run()
    rows = read_rows(out)
    assert summary.rows == len(rows) == len(_csv_reference(source)) == 52
    by_id = {r["id"]: r for r in rows if r["id"]}
    assert by_id["3"]["text"] == 'Delivery of 5" screens is approved.' and by_id["3"]["error"] == ""
    assert by_id["10"]["text"].count("several lines") == 250 and by_id["10"]["error"] == ""
    assert any("expected 2 fields, found 4" in r["error"] for r in rows)
    assert "'text' is empty" in by_id["30"]["error"]


def test_csv_runaway_quote_costs_a_bounded_stretch_and_reading_goes_on(classifier, tmp_path, monkeypatch):
    monkeypatch.setattr(records, "MAX_CSV_FIELD_CHARS", 500)
    source = tmp_path / "runaway.csv"
    body = [f"{n},Statement {n} welcomes the talks." for n in range(2, 100)]
    source.write_text('id,text\n1,"This quote never closes\n' + "\n".join(body) + "\n")
    out = tmp_path / "out.csv"
    summary = ScoreJob(classifier, ScoreConfig(input=source, output=out, progress=False)).run()
    rows = read_rows(out)
    assert summary.rows == len(rows) and summary.errors == 1
    assert "unreadable CSV record" in rows[0]["error"] and "an unclosed quote?" in rows[0]["error"]
    assert rows[-1]["id"] == "99" and rows[-1]["error"] == ""  # the rest of the file was read
    assert len(rows) < 99  # the swallowed stretch is bounded (about 500 characters), not the whole file


def test_csv_long_fields_cr_endings_bom_and_bad_bytes(classifier, tmp_path):
    source = tmp_path / "odd.csv"
    long_text = "We welcome the agreement. " * 6000  # 156,000 characters: over csv's default field limit
    source.write_bytes(
        "\ufeffid,text\r1,We reject it.\r2,".encode() + long_text.encode() + b"\r3,caf\xe9 talks\r4,We accept.\r"
    )
    out = tmp_path / "out.jsonl"
    summary = ScoreJob(classifier, ScoreConfig(input=source, output=out, progress=False)).run()
    rows = read_rows(out)
    assert summary.rows == 4 and [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[1]["stance"] and len(rows[1]["text"]) == len(long_text)
    assert "line 4: undecodable bytes" in rows[2]["error"] and rows[2]["text"] == "caf\ufffd talks"


def test_csv_with_a_repeated_header_is_refused(tmp_path):
    source = tmp_path / "twice.csv"
    source.write_text("id,text,text\n1,a,b\n")
    with pytest.raises(InputError, match="repeats column"):
        read_records(source)


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


def test_texts_longer_than_the_model_reads_are_flagged(classifier, tmp_path):
    long_text = "We welcome the agreement and will implement it in full. " * 80
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"text": "We accept."}) + "\n" + json.dumps({"text": long_text}) + "\n")
    out = tmp_path / "out.jsonl"
    summary = ScoreJob(classifier, ScoreConfig(input=source, output=out, progress=False)).run()
    assert [r["truncated"] for r in read_rows(out)] == [False, True] and summary.truncated == 1


@pytest.mark.parametrize("ext", [".gz", ".zst"])
def test_compressed_input_and_output(classifier, tmp_path, ext):
    import gzip

    import zstandard

    opener = gzip.open if ext == ".gz" else zstandard.open
    source = tmp_path / f"in.csv{ext}"
    with opener(source, "wt", encoding="utf-8") as handle:
        handle.write('id,text\n1,"We reject it."\n2,We accept.\n')
    out = tmp_path / f"out.jsonl{ext}"
    summary = ScoreJob(classifier, ScoreConfig(input=source, output=out, progress=False)).run()
    with opener(out, "rt") as handle:
        rows = [json.loads(line) for line in handle.read().splitlines()]
    assert summary.rows == 2 and [r["id"] for r in rows] == ["1", "2"]
    assert [r.columns["id"] for r in read_records(out, text_column=None)] == ["1", "2"]
    again = tmp_path / f"again.jsonl{ext}"  # the same rows give the same bytes
    ScoreJob(classifier, ScoreConfig(input=source, output=again, progress=False, window=1)).run()
    assert again.read_bytes() == out.read_bytes()
    with pytest.raises(InputError, match="Parquet compresses its own columns"):
        read_records(tmp_path / f"in.parquet{ext}")
