"""`diplostance score`: every format, row accounting, order, determinism, atomic output, resume."""

from __future__ import annotations

import json

import pytest
from diplostance.infer import StanceClassifier
from diplostance.infer.job import Interrupted, ResumeError, RowError, ScoreConfig, ScoreJob, work_dir_for
from diplostance.infer.writers import OUTPUT_COLUMNS
from helpers import read_rows, statement_rows, write_rows

FORMATS = [".jsonl", ".csv", ".parquet"]


@pytest.fixture(scope="module")
def classifier(tiny_model) -> StanceClassifier:
    return StanceClassifier.from_pretrained(tiny_model, backend="onnx")


def run(classifier, source, out, **options):
    return ScoreJob(classifier, ScoreConfig(input=source, output=out, progress=False, **options)).run()


@pytest.mark.parametrize("in_ext", FORMATS)
@pytest.mark.parametrize("out_ext", FORMATS)
def test_every_format_pair_keeps_rows_order_and_columns(classifier, tmp_path, in_ext, out_ext):
    rows = statement_rows(25)
    rows[3]["text"] = ""
    source = write_rows(rows, tmp_path / f"in{in_ext}")
    out = tmp_path / f"out{out_ext}"
    summary = run(classifier, source, out, window=7)
    scored = read_rows(out)
    assert summary.rows == len(scored) == 25
    assert [str(r["id"]) for r in scored] == [r["id"] for r in rows]
    assert list(scored[0])[: len(rows[0])] == list(rows[0])
    assert set(OUTPUT_COLUMNS) <= set(scored[0])
    assert "is empty" in scored[3]["error"] and not scored[3]["stance"]
    assert all(
        r["stance"] in ("cooperative", "conditional", "refusing", "none") for i, r in enumerate(scored) if i != 3
    )
    assert not work_dir_for(out).exists()


@pytest.mark.parametrize("backend", ["onnx", "bf16"])
def test_output_is_identical_across_batch_sizes_windows_and_threads(tiny_model, tmp_path, backend):
    source = write_rows(statement_rows(2000), tmp_path / "in.jsonl")
    outputs = []
    for batch_size, window, threads in [(1, 37, 1), (7, 16, 2), (64, 1000, 3)]:
        clf = StanceClassifier.from_pretrained(tiny_model, backend=backend, batch_size=batch_size, threads=threads)
        out = tmp_path / f"out-{batch_size}.jsonl"
        run(clf, source, out, window=window)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


def test_on_error_fail_names_file_line_and_reason(classifier, tmp_path):
    rows = statement_rows(5)
    rows[2]["text"] = None
    source = write_rows(rows, tmp_path / "in.jsonl")
    with pytest.raises(RowError, match=r"in\.jsonl:3 \(id=r2\): line 3: 'text' is null"):
        run(classifier, source, tmp_path / "out.jsonl", on_error="fail")
    assert not (tmp_path / "out.jsonl").exists()


def test_min_confidence_adds_abstained_column(classifier, tmp_path):
    source = write_rows(statement_rows(4), tmp_path / "in.jsonl")
    run(classifier, source, tmp_path / "out.jsonl", min_confidence=1.0)
    scored = read_rows(tmp_path / "out.jsonl")
    assert all(r["stance"] == "none" and r["abstained"] is True for r in scored)


def test_interrupted_job_resumes_to_identical_output(classifier, tmp_path, monkeypatch):
    source = write_rows(statement_rows(40), tmp_path / "in.jsonl")
    reference = tmp_path / "reference.jsonl"
    run(classifier, source, reference, window=8)

    out = tmp_path / "out.jsonl"
    job = ScoreJob(classifier, ScoreConfig(input=source, output=out, window=8, progress=False))
    calls = {"n": 0}
    original = job._score_window

    def stop_after_two(window):
        calls["n"] += 1
        if calls["n"] == 3:
            import os
            import signal

            os.kill(os.getpid(), signal.SIGTERM)  # handled: the job stops at the window boundary
        return original(window)

    monkeypatch.setattr(job, "_score_window", stop_after_two)
    with pytest.raises(Interrupted, match="after 24 rows; rerun the same command with --resume"):
        job.run()
    assert not out.exists()
    summary = run(classifier, source, out, window=8, resume=True)
    assert summary.resumed_from == 24 and summary.rows == 40
    assert out.read_bytes() == reference.read_bytes()


def test_resume_refuses_another_input_or_model(classifier, tiny_model, tmp_path, monkeypatch):
    source = write_rows(statement_rows(20), tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    job = ScoreJob(classifier, ScoreConfig(input=source, output=out, window=5, progress=False))
    monkeypatch.setattr(job, "_score_window", lambda window: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        job.run()
    state = json.loads((work_dir_for(out) / "checkpoint.json").read_text())
    assert state["rows_done"] == 0
    # a checkpoint from a different input is refused
    write_rows(statement_rows(21), source)
    with pytest.raises(ResumeError, match="different input fingerprint"):
        run(classifier, source, out, window=5, resume=True)
    # and from a different backend (the model identity includes it)
    write_rows(statement_rows(20), source)
    torch_clf = StanceClassifier.from_pretrained(tiny_model, backend="torch")
    with pytest.raises(ResumeError, match="different backend"):
        run(torch_clf, source, out, window=5, resume=True)
