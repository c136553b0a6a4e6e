"""The CLI: exit codes and one-line messages."""

from __future__ import annotations

import json
import subprocess
import sys

from diplostance.infer.cli import app
from diplostance.model.labels import LABELS
from helpers import statement_rows, write_rows
from typer.testing import CliRunner

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_score_and_show(tiny_model, tmp_path):
    source = write_rows(statement_rows(12), tmp_path / "in.csv")
    out = tmp_path / "out.parquet"
    result = invoke("score", source, "--out", out, "--model", tiny_model, "--no-progress")
    assert result.exit_code == 0, result.output
    assert "12 rows" in result.output and "12 scored, 0 with errors" in result.output
    shown = invoke("show", out)
    assert shown.exit_code == 0 and len(shown.output.splitlines()) == 13


def test_missing_text_column_is_one_line_exit_2(tiny_model, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,body\n1,hello\n")
    result = invoke("score", source, "--out", tmp_path / "o.jsonl", "--model", tiny_model)
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("error:") and "no column 'text'" in result.output
    assert "Traceback" not in result.output


def test_unreadable_input_and_missing_model(tiny_model, tmp_path):
    result = invoke("score", tmp_path / "nope.jsonl", "--out", tmp_path / "o.jsonl", "--model", tiny_model)
    assert result.exit_code == 2 and "no such file" in result.output
    result = invoke("predict", "We reject it.", "--model", tmp_path / "no-model")
    assert result.exit_code == 2 and "no model at" in result.output


def test_on_error_fail_exit_code(tiny_model, tmp_path):
    rows = statement_rows(3)
    rows[1]["text"] = ""
    source = write_rows(rows, tmp_path / "in.jsonl")
    result = invoke("score", source, "--out", tmp_path / "o.jsonl", "--model", tiny_model, "--on-error", "fail")
    assert result.exit_code == 2 and "in.jsonl:2 (id=r1): line 2: 'text' is empty" in result.output


def test_predict_prints_label_and_confidence(tiny_model):
    result = invoke("predict", "We reject it.", "Talks resume once sanctions end.", "--model", tiny_model)
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    label, confidence, parties, text = lines[0].split("\t")
    assert label in ("cooperative", "conditional", "refusing", "none") and 0 <= float(confidence) <= 1


def test_predict_reads_stdin_and_prints_json_with_parties(tiny_model):
    result = runner.invoke(
        app,
        ["predict", "-", "--json", "--explain", "--speaker", "Kenya (KEN) delegation", "--model", str(tiny_model)],
        input="We will not accept the proposal of the United States.\n\nSeoul said it would help Tokyo.\n",
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["actor"], r["counterpart"]) for r in rows] == [("KEN", "USA"), ("KOR", "JPN")]
    assert all(isinstance(r["evidence"], list) and set(r["probabilities"]) == set(LABELS) for r in rows)


def test_evaluate_prints_a_table_or_json_and_takes_other_columns(tiny_model, tmp_path):
    labels = ["Refusing", "conditional "] * 4  # case and spaces as a spreadsheet leaves them
    rows = [{"body": r["text"], "gold": lab} for r, lab in zip(statement_rows(8), labels)]
    data = write_rows(rows, tmp_path / "gold.csv")
    columns = ["--text-column", "body", "--label-column", "gold"]
    table = invoke("evaluate", data, "--model", tiny_model, *columns)
    assert table.exit_code == 0, table.output
    assert "macro-F1" in table.stdout and "none recall" in table.stdout and "refusing" in table.stdout
    missing = invoke("evaluate", data, "--model", tiny_model)
    assert missing.exit_code == 2 and "no 'text' column" in missing.output and "--text-column" in missing.output
    result = invoke("evaluate", data, "--model", tiny_model, *columns, "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 8 and "macro_f1" in metrics and "confusion_matrix" in metrics
    assert set(metrics["per_label"]) == {"cooperative", "conditional", "refusing", "none"}


def test_evaluate_rejects_bad_labels_with_file_and_line(tiny_model, tmp_path):
    data = tmp_path / "gold.jsonl"
    data.write_text('{"text": "a", "label": "refusing"}\n{"text": "b", "label": "hostile"}\n')
    result = invoke("evaluate", data, "--model", tiny_model)
    assert result.exit_code == 2 and "gold.jsonl:2: invalid label 'hostile'" in result.output


def test_evaluate_with_baselines_writes_one_table(tiny_model, tmp_path):
    rows = []
    for i, r in enumerate(statement_rows(48)):
        label = ["refusing", "conditional", "none", "cooperative", "refusing", "conditional"][i % 6]
        rows.append(
            {
                "text": r["text"],
                "label": label,
                "split": "train" if i < 36 else "test",
                "source": "real" if i % 2 else "authored",
                "hard": i % 3 == 0,
            }
        )
    data = write_rows(rows, tmp_path / "gold.jsonl")
    plover = write_rows(rows[36:], tmp_path / "external.jsonl")
    table = tmp_path / "table.md"
    result = invoke(
        "evaluate", data, "--model", tiny_model, "--split", "test", "--baselines", "--plover", plover, "--table", table
    )
    assert result.exit_code == 0, result.output
    written = table.read_text()
    for system in (
        "keyword rules",
        "TF-IDF + logistic regression",
        "prototype similarity (zero-shot)",
        "frozen encoder + logistic regression",
        "fine-tuned diplostance",
    ):
        assert f"| gold.jsonl test | all | {system} | 12 |" in written
        assert f"| PLOVER | real | {system} | 6 |" in written


def test_help_and_argument_errors_do_not_load_torch(tmp_path):
    """`--help`, `score --help` and a missing input answer before torch/transformers are imported."""
    probe = (
        "import sys\n"
        "from diplostance.infer.cli import app\n"
        "for argv in (['--help'], ['score', '--help'], ['score', sys.argv[1], '--out', sys.argv[2]]):\n"
        "    try:\n"
        "        app(argv, prog_name='diplostance')\n"
        "    except SystemExit as stop:\n"
        "        print('exit', stop.code)\n"
        "print('loaded:', sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    missing = tmp_path / "missing.jsonl"
    run = subprocess.run(
        [sys.executable, "-c", probe, str(missing), str(tmp_path / "out.jsonl")], capture_output=True, text=True
    )
    assert run.stdout.count("exit 0") == 2 and "exit 2" in run.stdout, run.stdout + run.stderr
    assert "no such file" in run.stderr
    assert "loaded: []" in run.stdout


def test_score_ends_with_stance_counts_and_speed_and_counts_rows_for_the_bar(tiny_model, tmp_path):
    from diplostance.infer.records import count_rows

    source = write_rows(statement_rows(7), tmp_path / "in.csv")
    assert count_rows(source) == 7 and count_rows(write_rows(statement_rows(5), tmp_path / "in.jsonl")) == 5
    result = invoke("score", source, "--out", tmp_path / "out.jsonl", "--model", tiny_model, "--no-progress")
    assert result.exit_code == 0, result.output
    counts = dict(item.rsplit(" ", 1) for item in result.output.split("stances: ")[1].split(";")[0].split(", "))
    assert set(counts) == set(LABELS) and sum(map(int, counts.values())) == 7
    assert "rows/s" in result.output


def test_score_limit_takes_the_first_rows(tiny_model, tmp_path):
    source = write_rows(statement_rows(9), tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    result = invoke("score", source, "--out", out, "--model", tiny_model, "--limit", "4", "--no-progress")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["r0", "r1", "r2", "r3"]


def test_score_reads_stdin_and_writes_stdout(tiny_model):
    lines = "".join(json.dumps(r) + "\n" for r in statement_rows(3))
    result = runner.invoke(
        app, ["score", "-", "--out", "-", "--format", "jsonl", "--model", str(tiny_model), "--no-progress"], input=lines
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["r0", "r1", "r2"] and all(r["stance"] for r in rows)
    refused = runner.invoke(app, ["score", "-", "--out", "x.jsonl", "--resume", "--model", str(tiny_model)])
    assert refused.exit_code == 2 and "without --resume" in refused.output
