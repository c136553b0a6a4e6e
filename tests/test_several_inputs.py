"""Issue 11: several inputs, or a glob, scored into one output with a ``source_file`` column."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from diplostance.infer.job import SOURCE_COLUMN, work_dir_for
from helpers import statement_rows, write_rows
from test_workflow_fixes import invoke, one_line_error, score


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_several_jsonl_files_keep_every_row_in_order_with_its_file(tiny_model, tmp_path):
    first, second = statement_rows(5), statement_rows(9)[5:]
    second[1]["text"] = ""  # an error row still names its file
    a = write_rows(first, tmp_path / "a.jsonl")
    b = write_rows(second, tmp_path / "b.jsonl")
    (tmp_path / "b.jsonl").write_text((tmp_path / "b.jsonl").read_text() + "\n{broken\n")
    out = tmp_path / "out.jsonl"
    result = invoke("score", a, b, "--out", out, "--model", tiny_model, "--no-progress", "--window", "3")
    assert result.exit_code == 0, result.output
    rows = read_jsonl(out)
    assert [r[SOURCE_COLUMN] for r in rows] == [str(a)] * 5 + [str(b)] * 5
    assert [r.get("id") for r in rows] == [r["id"] for r in first + second] + [None]
    assert list(rows[0])[0] == SOURCE_COLUMN
    assert "line 2: 'text' is empty" in rows[6]["error"] and "line 6: malformed JSON" in rows[9]["error"]
    assert "10 rows" in result.output and "1 blank lines skipped" in result.output
    # the same rows scored alone give the same labels and probabilities
    alone = tmp_path / "alone.jsonl"
    assert score(a, alone, tiny_model).exit_code == 0
    assert [{k: v for k, v in r.items() if k != SOURCE_COLUMN} for r in rows[:5]] == read_jsonl(alone)


def test_a_quoted_glob_is_expanded_sorted_and_csv_headers_are_joined(tiny_model, tmp_path):
    rows = statement_rows(6)
    write_rows([{"id": r["id"], "text": r["text"]} for r in rows[3:]], tmp_path / "part-2.csv")
    write_rows([{"id": r["id"], "text": r["text"], "desk": "wire"} for r in rows[:3]], tmp_path / "part-1.csv")
    out = tmp_path / "out.parquet"
    result = score(tmp_path / "part-*.csv", out, tiny_model)
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column_names[:4] == [SOURCE_COLUMN, "id", "text", "desk"]
    assert (
        table.column(SOURCE_COLUMN).to_pylist()
        == [str(tmp_path / "part-1.csv")] * 3 + [str(tmp_path / "part-2.csv")] * 3
    )
    assert table.column("desk").to_pylist() == ["wire"] * 3 + [None] * 3
    assert table.column("id").to_pylist() == [r["id"] for r in rows]


@pytest.mark.parametrize(
    "case, fragment",
    [
        ("no match", "matches no file"),
        ("mixed formats", "mix formats"),
        ("named twice", "named twice"),
        ("has source_file", "already has column 'source_file'"),
        ("second lacks the text column", "no column 'text'"),
        ("stdin", "several inputs"),
    ],
)
def test_several_inputs_refused_before_scoring_leave_nothing(tiny_model, tmp_path, case, fragment):
    a = write_rows(statement_rows(3), tmp_path / "a.csv")
    others = {  # built on demand: two cases write b.csv
        "no match": lambda: [tmp_path / "none-*.csv"],
        "mixed formats": lambda: [write_rows(statement_rows(2), tmp_path / "b.jsonl")],
        "named twice": lambda: [tmp_path / "." / "a.csv"],
        "has source_file": lambda: [write_rows([{"text": "x", SOURCE_COLUMN: "y"}], tmp_path / "b.csv")],
        "second lacks the text column": lambda: [write_rows([{"body": "x"}], tmp_path / "b.csv")],
        "stdin": lambda: ["-"],
    }[case]()
    out = tmp_path / "out.jsonl"
    result = invoke("score", a, *others, "--out", out, "--model", tiny_model, "--no-progress")
    one_line_error(result, fragment)
    assert not out.exists() and not work_dir_for(out).exists()


def test_several_inputs_resume_to_the_same_bytes_and_refuse_a_changed_list(tiny_model, tmp_path):
    a = write_rows(statement_rows(4), tmp_path / "a.jsonl")
    b = write_rows(statement_rows(8)[4:], tmp_path / "b.jsonl")
    whole = tmp_path / "whole.jsonl"
    args = ("--model", tiny_model, "--no-progress", "--window", "3")
    assert invoke("score", a, b, "--out", whole, *args).exit_code == 0
    out = tmp_path / "out.jsonl"
    assert invoke("score", a, b, "--out", out, *args, "--limit", "6").exit_code == 0
    # a job cut after two windows: keep its checkpoint, then resume it
    work = work_dir_for(out)
    assert not work.exists()
    import diplostance.infer.job as job

    calls = {"n": 0}
    original = job.write_part

    def failing(*a, **k):
        calls["n"] += 1
        if calls["n"] == 3:
            raise job.Interrupted("stopped")
        return original(*a, **k)

    job.write_part = failing
    try:
        cut = invoke("score", a, b, "--out", out, *args)
    finally:
        job.write_part = original
    assert cut.exit_code != 0 and work.exists()
    changed = invoke("score", b, a, "--out", out, *args, "--resume")
    one_line_error(changed, "different input")
    resumed = invoke("score", a, b, "--out", out, *args, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert out.read_bytes() == whole.read_bytes()
