"""Kill `diplostance score` with SIGKILL at random points, resume each time, and compare
the final output with an uninterrupted run, row by row."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

from diplostance.infer.job import work_dir_for
from helpers import read_rows, statement_rows, write_rows


def score_command(tiny_model, source, out, *extra):
    return [
        sys.executable,
        "-m",
        "diplostance.infer.cli",
        "score",
        str(source),
        "--out",
        str(out),
        "--model",
        str(tiny_model),
        "--no-progress",
        "--threads",
        "1",
        "--window",
        "100",
        *extra,
    ]


def rows_done(out) -> int:
    try:
        return json.loads((work_dir_for(out) / "checkpoint.json").read_text())["rows_done"]
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


def test_sigkill_and_resume_gives_identical_output(tiny_model, tmp_path):
    rows = statement_rows(3000)
    rows[17]["text"] = ""
    source = write_rows(rows, tmp_path / "in.jsonl")
    reference = tmp_path / "reference.jsonl"
    subprocess.run(score_command(tiny_model, source, reference), check=True, capture_output=True)

    out = tmp_path / "out.jsonl"
    rng = random.Random(7)
    kills = 0
    progress = [0]
    for _ in range(4):
        process = subprocess.Popen(score_command(tiny_model, source, out, "--resume"), stderr=subprocess.PIPE)
        start = rows_done(out)
        target = start + rng.randint(1, 600)
        deadline = time.monotonic() + 120
        while process.poll() is None and rows_done(out) < target and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.3))  # land anywhere: inside a window, during a part write, a checkpoint
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        if out.exists():  # the kill came after the final rename: the output must be whole
            assert out.read_bytes() == reference.read_bytes()
            break
        progress.append(rows_done(out))
    assert kills >= 2, "the job finished before it could be killed twice; make the input larger"
    assert progress == sorted(progress), "a resumed run went backwards"
    final = subprocess.run(score_command(tiny_model, source, out, "--resume"), capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    assert out.read_bytes() == reference.read_bytes()
    assert len(read_rows(out)) == 3000
    assert not work_dir_for(out).exists()


def test_sigterm_stops_at_a_window_with_a_resume_hint(tiny_model, tmp_path):
    source = write_rows(statement_rows(3000), tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen(score_command(tiny_model, source, out), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and rows_done(out) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "rerun the same command with --resume" in stderr and "Traceback" not in stderr
    assert not out.exists() and rows_done(out) > 0
