"""Issue 11: `show` on every output format, no work folder left by a failed `score`, and `--out`
refused before scoring when it is the input or a folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from diplostance.infer.cli import app
from diplostance.infer.job import work_dir_for
from helpers import statement_rows, write_rows
from typer.testing import CliRunner

runner = CliRunner()
FORMATS = [".jsonl", ".csv", ".parquet"]


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def score(source: Path, out: Path, model: Path, *options: object):
    return invoke("score", source, "--out", out, "--model", model, "--no-progress", *options)


def one_line_error(result, fragment: str) -> str:
    """The CLI's contract for expected failures: exit 2 and a single `error: ...` line, no traceback."""
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0], result.output
    return lines[0]


# -- show ---------------------------------------------------------------------------------


@pytest.mark.parametrize("out_ext", FORMATS)
def test_show_reads_every_output_format(tiny_model, tmp_path, out_ext):
    rows = statement_rows(6)
    rows[2]["text"] = ""
    rows[4]["text"] = "First line.\nSecond line."
    out = tmp_path / f"out{out_ext}"
    assert score(write_rows(rows, tmp_path / "in.jsonl"), out, tiny_model).exit_code == 0
    shown = invoke("show", out)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert len(lines) == 7 and lines[0].split() == ["stance", "conf", "text"]
    assert "First line.\\nSecond line." in lines[5]  # escaped: one row stays one line
    assert lines[3].startswith("error") and "line 3: 'text' is empty" in lines[3]
    for line in lines[1:]:
        if not line.startswith("error"):
            assert 0 <= float(line.split()[1]) <= 1


def test_show_finds_the_text_column_without_being_told(tiny_model, tmp_path):
    rows = [{"id": r["id"], "body": r["text"], "source": "wire"} for r in statement_rows(4)]
    source = write_rows(rows, tmp_path / "in.parquet")
    # Parquet output records the text column
    assert score(source, tmp_path / "out.parquet", tiny_model, "--text-column", "body").exit_code == 0
    shown = invoke("show", tmp_path / "out.parquet")
    assert shown.exit_code == 0 and rows[0]["body"][:40] in shown.output
    # CSV cannot record it: a single input column is the text; several are a one-line question
    single = write_rows([{"body": r["body"]} for r in rows], tmp_path / "single.csv")
    assert score(single, tmp_path / "single-out.csv", tiny_model, "--text-column", "body").exit_code == 0
    assert rows[1]["body"][:40] in invoke("show", tmp_path / "single-out.csv").output
    assert score(source, tmp_path / "out.csv", tiny_model, "--text-column", "body").exit_code == 0
    one_line_error(invoke("show", tmp_path / "out.csv"), "use --text-column")
    assert rows[2]["body"][:40] in invoke("show", tmp_path / "out.csv", "--text-column", "body").output
    # document mode shows the passages
    assert score(source, tmp_path / "docs.jsonl", tiny_model, "--text-column", "body", "--documents").exit_code == 0
    assert rows[3]["body"][:40] in invoke("show", tmp_path / "docs.jsonl").output


def test_show_limit_and_stance_filter(tiny_model, tmp_path):
    rows = statement_rows(8)
    rows[1]["text"] = rows[5]["text"] = None
    out = tmp_path / "out.csv"
    assert score(write_rows(rows, tmp_path / "in.jsonl"), out, tiny_model).exit_code == 0
    assert len(invoke("show", out, "--limit", "3").output.splitlines()) == 4
    errors = invoke("show", out, "--stance", "error").output.splitlines()[1:]
    assert len(errors) == 2 and all("'text' is null" in line for line in errors)
    labels = [line.split()[0] for line in invoke("show", out).output.splitlines()[1:]]
    for label in ("cooperative", "conditional", "refusing", "none"):
        kept = invoke("show", out, "--stance", label).output.splitlines()[1:]
        assert [line.split()[0] for line in kept] == [label] * labels.count(label)
    one_line_error(invoke("show", out, "--stance", "hostile"), "unknown stance 'hostile'")
    one_line_error(invoke("show", tmp_path / "in.jsonl"), "no 'stance' column")


# -- a failed score leaves nothing behind -------------------------------------------------


def _wrong_column(tmp_path: Path) -> tuple[Path, list[str]]:
    return write_rows([{"id": "1", "body": "We reject it."}], tmp_path / "in.csv"), []


def _unreadable_header(tmp_path: Path) -> tuple[Path, list[str]]:
    (tmp_path / "in.csv").write_bytes(b"\xff\xfe\x00t\x00e\x00x\x00t\n1\n")
    return tmp_path / "in.csv", []


def _corrupt_parquet(tmp_path: Path) -> tuple[Path, list[str]]:
    (tmp_path / "in.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    return tmp_path / "in.parquet", []


def _clashing_column(tmp_path: Path) -> tuple[Path, list[str]]:
    rows = [{**r, "confidence": "high"} for r in statement_rows(3)]
    return write_rows(rows, tmp_path / "in.jsonl"), []


def _bad_first_row(tmp_path: Path) -> tuple[Path, list[str]]:
    rows = statement_rows(3)
    rows[1]["text"] = ""
    return write_rows(rows, tmp_path / "in.jsonl"), ["--on-error", "fail"]


@pytest.mark.parametrize(
    ("make_input", "message"),
    [
        (_wrong_column, "no column 'text'"),
        (_unreadable_header, "unreadable header"),
        (_corrupt_parquet, "not a readable Parquet file"),
        (_clashing_column, "output column 'confidence'"),
        (_bad_first_row, "'text' is empty"),
    ],
    ids=["wrong-column", "unreadable-header", "corrupt-parquet", "clashing-column", "bad-row"],
)
def test_failed_score_leaves_no_work_folder(tiny_model, tmp_path, make_input, message):
    source, options = make_input(tmp_path)
    for out_ext in FORMATS:
        one_line_error(score(source, tmp_path / f"out{out_ext}", tiny_model, *options), message)
        one_line_error(score(source, tmp_path / "new" / "deeper" / f"out{out_ext}", tiny_model, *options), message)
    assert sorted(os.listdir(tmp_path)) == [source.name]  # nor the folders made for a nested --out


def test_missing_folders_above_the_output_are_made(tiny_model, tmp_path):
    """`--out reports/scored.jsonl` on a fresh clone, where reports/ does not exist yet (CI's make demo)."""
    source = write_rows(statement_rows(3), tmp_path / "in.jsonl")
    out = tmp_path / "reports" / "2026" / "scored.jsonl"
    result = score(source, out, tiny_model)
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 3
    assert sorted(os.listdir(out.parent)) == ["scored.jsonl"]


def test_a_later_run_is_not_confused_by_a_failed_one(tiny_model, tmp_path):
    source, _ = _wrong_column(tmp_path)
    out = tmp_path / "out.jsonl"
    one_line_error(score(source, out, tiny_model), "no column 'text'")
    fixed = score(source, out, tiny_model, "--text-column", "body", "--resume")
    assert fixed.exit_code == 0, fixed.output
    assert [json.loads(line)["body"] for line in out.read_text().splitlines()] == ["We reject it."]
    assert not work_dir_for(out).exists()


# -- --out is checked before scoring ------------------------------------------------------


@pytest.fixture
def no_scoring(monkeypatch):
    """Fails the test if anything is scored: the checks must come first."""
    from diplostance.infer.classifier import StanceClassifier

    def refuse(*_args, **_kwargs):
        raise AssertionError("scored before checking --out")

    monkeypatch.setattr(StanceClassifier, "predict_proba", refuse)


def _alias(source: Path, kind: str) -> Path:
    """Another name for ``source``: itself, a symlink, a hard link or a path through '..'."""
    if kind == "symlink":
        (source.parent / "link.csv").symlink_to(source)
        return source.parent / "link.csv"
    if kind == "hard link":
        os.link(source, source.parent / "hard.csv")
        return source.parent / "hard.csv"
    if kind == "other spelling":
        return source.parent / "sub" / ".." / source.name
    return source


@pytest.mark.parametrize("kind", ["same path", "symlink", "hard link", "other spelling"])
def test_output_that_is_the_input_is_refused(tiny_model, tmp_path, no_scoring, kind):
    source = write_rows(statement_rows(5), tmp_path / "in.csv")
    before = source.read_bytes()
    out = _alias(source, kind)
    one_line_error(score(source, out, tiny_model), "would overwrite the input")
    assert source.read_bytes() == before and not work_dir_for(out).exists()


def test_output_that_is_a_folder_is_refused_before_scoring(tiny_model, tmp_path, no_scoring):
    source = write_rows(statement_rows(5), tmp_path / "in.jsonl")
    (tmp_path / "out.csv").mkdir()
    one_line_error(score(source, tmp_path / "out.csv", tiny_model), "is a folder")
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "out.csv"] and not os.listdir(tmp_path / "out.csv")


def test_spark_output_folder_may_exist_but_not_be_the_input(tmp_path):
    from diplostance.infer.job import OutputError, check_output

    source = write_rows(statement_rows(3), tmp_path / "in.parquet")
    (tmp_path / "scored").mkdir()
    check_output(source, tmp_path / "scored", folder=True)  # Spark replaces an output folder: allowed
    (tmp_path / "alias.parquet").symlink_to(source)
    with pytest.raises(OutputError, match="would overwrite the input"):
        check_output(source, tmp_path / "alias.parquet", folder=True)


# -- CSV types kept in Parquet ------------------------------------------------------------


def test_csv_numbers_stay_numbers_in_parquet_and_codes_stay_text(tiny_model, tmp_path):
    """Types are decided over the whole file (--window 2 puts the contradicting row in a later part)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = [r["text"] for r in statement_rows(5)]
    lines = ["id,text,year,share,code,mixed,blank"]
    cells = [("1", "2019", "0.5", "007", "12", ""), ("2", "2020", "-1.25e3", "042", "13", "3")]
    cells += [("3", "2021", "7", "100", "14", ""), ("4", "2022", "", "001", "n/a", "4")]
    cells += [("5", "1999", "3", "9", "1", "")]
    for text, row in zip(texts, cells):
        lines.append(",".join([row[0], f'"{text}"', *row[1:]]))
    source = tmp_path / "in.csv"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.parquet"
    assert score(source, out, tiny_model, "--window", "2").exit_code == 0
    table = pq.read_table(out)
    assert table.schema.field("id").type == pa.int64() and table.schema.field("year").type == pa.int64()
    assert table.schema.field("share").type == pa.float64()
    assert table.column("share").to_pylist() == [0.5, -1250.0, 7.0, None, 3.0]
    assert table.schema.field("blank").type == pa.int64() and table.column("blank").to_pylist()[:2] == [None, 3]
    assert table.column("code").to_pylist() == ["007", "042", "100", "001", "9"]  # leading zeros: a code
    assert table.column("mixed").to_pylist() == ["12", "13", "14", "n/a", "1"]  # one word keeps it text
    assert table.schema.field("confidence").type == pa.float64()
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text("".join(json.dumps({"id": i, "text": t, "code": "007"}) + "\n" for i, t in enumerate(texts)))
    assert score(jsonl, tmp_path / "j.parquet", tiny_model).exit_code == 0
    assert pq.read_table(tmp_path / "j.parquet").schema.field("code").type == pa.string()
