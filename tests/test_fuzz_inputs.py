"""Fault-and-fuzz suite (issue 10): hostile JSONL and CSV files through the CLI, end to end.

Whatever the bytes, `diplostance score` exits 0 (every record has an output row: rows out = the reference
reader's records) or 2 (one line naming the file-level problem), never a traceback. ``FUZZ_EXAMPLES``
sets how many files each property tries: a few in ``make test``, many in ``make soak``.
"""

from __future__ import annotations

import csv
import io
import json
import os

import pytest
from diplostance.infer.cli import app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
PIECES = st.sampled_from(
    ['"', '""', ",", "\n", "\r", "\r\n", "\ufeff", "\ud800", "\x00", "é", '5" screens', "We accept.", " ", "\t"]
)
FIELD = st.one_of(st.text(max_size=12), st.lists(PIECES, max_size=6).map("".join), st.just("x" * 140_000))


def _score(tmp_path, source, tiny_model):
    out = tmp_path / "out.jsonl"
    out.unlink(missing_ok=True)
    result = CliRunner().invoke(app, ["score", str(source), "--out", str(out), "--model", str(tiny_model),
                                      "--backend", "onnx", "--no-progress"])  # fmt: skip
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result, out


def _csv_reference(data: bytes) -> int:
    """Records the csv module reads after the header (blank records are not rows), or -1 if it cannot."""
    try:
        text = data.decode("utf-8-sig", errors="surrogateescape")
        records = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    except csv.Error:
        return -1
    return max(len(records) - 1, 0)


@FUZZ
@given(
    rows=st.lists(st.lists(FIELD, min_size=1, max_size=3), max_size=6),
    header=st.sampled_from(["id,text", "text,text", "text"]),
)
def test_hostile_csv_gives_one_row_per_record_or_one_clear_error(tmp_path_factory, tiny_model, rows, header):
    tmp_path = tmp_path_factory.mktemp("csv")
    lines = [header] + [",".join(fields) for fields in rows]
    data = "\n".join(lines).encode("utf-8", errors="surrogatepass")
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    result, out = _score(tmp_path, source, tiny_model)
    if result.exit_code == 0:
        expected = _csv_reference(data)
        written = len(out.read_text(encoding="utf-8").splitlines())
        if expected >= 0:  # the reference could read it: the same count, row for row
            assert written == expected, (data[:200], result.output)
    else:
        assert result.output.startswith("error: ") and "Traceback" not in result.output


@FUZZ
@given(lines=st.lists(st.one_of(FIELD, st.dictionaries(st.sampled_from(["text", "id", "stance", "x"]),
                                                        st.one_of(FIELD, st.integers(), st.none()), max_size=3)),
                      max_size=6))  # fmt: skip
def test_hostile_jsonl_gives_one_row_per_nonblank_line(tmp_path_factory, tiny_model, lines):
    tmp_path = tmp_path_factory.mktemp("jsonl")
    encoded = [json.dumps(line) if isinstance(line, dict) else line.replace("\n", " ") for line in lines]
    data = "\n".join(encoded).encode("utf-8", errors="surrogatepass")
    source = tmp_path / "in.jsonl"
    source.write_bytes(data)
    result, out = _score(tmp_path, source, tiny_model)
    if result.exit_code == 0:
        expected = sum(1 for line in data.split(b"\n") if line.strip())
        assert len(out.read_text(encoding="utf-8").splitlines()) == expected
    else:  # the only file-level refusal a JSONL file can earn here: an input key named like an output column
        assert "output column" in result.output, result.output


@pytest.mark.parametrize("limit_kb", [64])
def test_a_size_limited_disk_ends_with_one_line_and_no_half_file(tmp_path, tiny_model, limit_kb):
    """RLIMIT_FSIZE stands in for a full disk: the job must say so in one line and leave no temporary file."""
    import resource
    import subprocess
    import sys

    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": f"We accept offer {i}. " * 20}) + "\n" for i in range(400)))
    out = tmp_path / "out.jsonl"
    limit = limit_kb * 1024

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [sys.executable, "-m", "diplostance.infer.cli", "score", str(source), "--out", str(out), "--model",
         str(tiny_model), "--backend", "onnx", "--no-progress", "--window", "100"],
        capture_output=True, text=True, preexec_fn=cap, timeout=600,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists() and not [p for p in tmp_path.rglob("*tmp*")]
