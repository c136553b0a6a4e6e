"""Hostile files and concurrent runs (issue 10): no row lost, invented or mixed, and one bad row never
kills the job."""

from __future__ import annotations

import errno
import json

import pytest
from diplostance.infer import StanceClassifier, writers
from diplostance.infer.job import (
    OutputError,
    ResumeError,
    ScoreConfig,
    ScoreJob,
    WriteError,
    output_lock,
    work_dir_for,
)
from diplostance.infer.records import InputError
from helpers import read_rows, statement_rows, write_rows


@pytest.fixture(scope="module")
def classifier(tiny_model) -> StanceClassifier:
    return StanceClassifier.from_pretrained(tiny_model, backend="onnx")


def run(classifier, source, out, **options):
    return ScoreJob(classifier, ScoreConfig(input=source, output=out, progress=False, **options)).run()


def crash_on_window(monkeypatch, n: int) -> None:
    """Make the job die while scoring its ``n``-th window (a kill after n-1 checkpointed windows)."""
    score_window = ScoreJob._score_window
    calls = {"n": 0}

    def crashing(self, window):
        calls["n"] += 1
        if calls["n"] == n:
            raise RuntimeError("killed")
        return score_window(self, window)

    monkeypatch.setattr(ScoreJob, "_score_window", crashing)


def killed_run(classifier, monkeypatch, tmp_path, rows: int, window: int, killed_at: int):
    """A job over ``rows`` statements killed while scoring window ``killed_at``: (input, output)."""
    source = write_rows(statement_rows(rows), tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    crash_on_window(monkeypatch, killed_at)
    with pytest.raises(RuntimeError, match="killed"):
        run(classifier, source, out, window=window)
    monkeypatch.undo()
    return source, out


def test_lone_surrogates_become_error_rows_not_a_lost_job(classifier, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"id": 1, "text": "We accept the offer."}\n'
        '{"id": 2, "text": "half a pair \\ud800 here"}\n'
        '{"id": 3, "text": "We reject it.", "source": "wire \\udfff"}\n'
        '{"id": 4, "text": "Talks resume once the sanctions end."}\n'
    )
    summary = run(classifier, source, tmp_path / "out.jsonl")
    rows = read_rows(tmp_path / "out.jsonl")
    assert summary.rows == len(rows) == 4 and summary.errors == 2
    assert [r["id"] for r in rows] == [1, 2, 3, 4]
    assert "lone surrogate" in rows[1]["error"] and "lone surrogate" in rows[2]["error"]
    assert rows[2]["source"] == "wire \ufffd" and rows[0]["error"] is None


def test_output_column_in_a_later_window_is_refused_like_in_the_first(classifier, tmp_path):
    rows = statement_rows(9)
    rows[6]["stance"] = "theirs"
    source = write_rows(rows, tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    with pytest.raises(InputError, match="output column 'stance'"):
        run(classifier, source, out, window=2)
    assert not out.exists() and not work_dir_for(out).exists()


def test_a_damaged_part_file_is_refused_on_resume(classifier, tmp_path, monkeypatch):
    source, out = killed_run(classifier, monkeypatch, tmp_path, 20, window=4, killed_at=3)
    part = work_dir_for(out) / "part-000000.jsonl"
    part.write_bytes(part.read_bytes()[:-10])  # truncated on disk
    with pytest.raises(ResumeError, match="damaged"):
        run(classifier, source, out, window=4, resume=True)


def test_resume_continues_when_the_parts_are_whole(classifier, tmp_path, monkeypatch):
    source, out = killed_run(classifier, monkeypatch, tmp_path, 20, window=4, killed_at=3)
    reference = tmp_path / "reference.jsonl"
    run(classifier, source, reference, window=4)
    run(classifier, source, out, window=4, resume=True)
    assert out.read_bytes() == reference.read_bytes()


def test_a_second_run_on_the_same_output_stops_and_names_the_first(classifier, tmp_path):
    source = write_rows(statement_rows(5), tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    with output_lock(out):  # another run holds the output
        with pytest.raises(OutputError, match=r"another diplostance run \(pid \d+\)"):
            run(classifier, source, out)
    assert not out.exists()
    run(classifier, source, out)  # free again once the first run ended
    assert len(read_rows(out)) == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no lock or work folder left


def test_checkpoint_records_size_and_hash_of_every_part(classifier, tmp_path, monkeypatch):
    _, out = killed_run(classifier, monkeypatch, tmp_path, 12, window=4, killed_at=3)
    parts = json.loads((work_dir_for(out) / "checkpoint.json").read_text())["parts"]
    assert [p["name"] for p in parts] == ["part-000000.jsonl", "part-000001.jsonl"]
    assert all(p["size"] > 0 and len(p["sha256"]) == 64 for p in parts)


def test_resume_refuses_an_input_changed_in_the_middle(classifier, tmp_path, monkeypatch):
    source, out = killed_run(classifier, monkeypatch, tmp_path, 40, window=4, killed_at=3)
    data = bytearray(source.read_bytes())
    middle = data.index(b'"text": "', len(data) // 2) + 9
    data[middle : middle + 2] = b"XY"  # same size, same ends, new bytes in the middle
    source.write_bytes(bytes(data))
    with pytest.raises(ResumeError, match="different input fingerprint"):
        run(classifier, source, out, window=4, resume=True)


def _fail_writes(monkeypatch, target: str, after: int) -> None:
    """Make ``writers.<target>`` write half a file and then hit a full disk, from its ``after``-th call."""
    real = getattr(writers, target)
    calls = {"n": 0}

    def full_disk(rows_or_parts, tmp, *args, **options):
        calls["n"] += 1
        if calls["n"] < after:
            return real(rows_or_parts, tmp, *args, **options)
        tmp.write_bytes(b"half a fi")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writers, target, full_disk)


@pytest.mark.parametrize("target", ["_write_part", "_join_parts"])
def test_a_full_disk_leaves_no_half_file_and_the_job_resumes(classifier, tmp_path, monkeypatch, target):
    source = write_rows(statement_rows(20), tmp_path / "in.jsonl")
    out, reference = tmp_path / "out.jsonl", tmp_path / "reference.jsonl"
    run(classifier, source, reference, window=4)
    _fail_writes(monkeypatch, target, after=3 if target == "_write_part" else 1)
    with pytest.raises(WriteError, match="No space left on device.*--resume"):
        run(classifier, source, out, window=4)
    monkeypatch.undo()
    leftovers = [p.name for p in tmp_path.rglob("*tmp*")]
    assert leftovers == [] and not out.exists()
    run(classifier, source, out, window=4, resume=True)
    assert out.read_bytes() == reference.read_bytes()


def test_an_output_name_too_long_for_the_work_folder_still_works(classifier, tmp_path):
    source = write_rows(statement_rows(5), tmp_path / "in.jsonl")
    out = tmp_path / ("x" * 245 + ".jsonl")  # 251 bytes: a legal name, too long for ".<name>.diplostance-parts"
    assert len(work_dir_for(out).name.encode()) <= 255
    run(classifier, source, out, window=2)
    assert len(read_rows(out)) == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bom_nan_and_not_a_file_inputs(classifier, tmp_path):
    source = tmp_path / "bom.jsonl"
    source.write_bytes(b'\xef\xbb\xbf{"id": 1, "text": "We accept.", "score": NaN}\n{"id": 2, "text": "We reject."}\n')
    out = tmp_path / "out.jsonl"
    run(classifier, source, out)
    assert '"score": null' in out.read_text() and "NaN" not in out.read_text()
    assert [r["error"] for r in read_rows(out)] == [None, None]
    (tmp_path / "folder.jsonl").mkdir()
    with pytest.raises(InputError, match="is a folder, not a file"):
        run(classifier, tmp_path / "folder.jsonl", tmp_path / "x.jsonl")


def test_a_damaged_checkpoint_is_named(classifier, tmp_path, monkeypatch):
    source, out = killed_run(classifier, monkeypatch, tmp_path, 12, window=4, killed_at=2)
    (work_dir_for(out) / "checkpoint.json").write_text('{"identity": ')
    with pytest.raises(ResumeError, match=r"checkpoint.json is damaged"):
        run(classifier, source, out, window=4, resume=True)
