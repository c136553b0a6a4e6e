"""Rows per second of ``diplostance score`` (the local ``ScoreJob``) and of Spark on ``local[2]``.

    .venv/bin/python benchmarks/spark_vs_local.py [--rows 20000] [--model DIR] [--repeats 2]

Both sides score the same Parquet file (corpus texts repeated to ``--rows``) with the same
model and the ONNX backend, in one process, and write Parquet. The local job uses one
thread per core; Spark runs two workers of one thread each: both use two cores. Without
``--model`` the tiny model of the tests is built (tests/conftest.py), as the tests see it.

Spark is timed from the moment the session exists: its first run includes starting the
Python workers and loading the model in each (cold), later runs reuse them (warm).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from diplostance.infer.classifier import StanceClassifier
from diplostance.infer.job import ScoreConfig, ScoreJob
from diplostance.infer.spark import score_files_with_spark, spark_session

ROOT = Path(__file__).resolve().parent.parent


def write_rows(path: Path, n: int) -> Path:
    """``n`` rows of corpus texts, repeated in order."""
    with (ROOT / "data" / "corpus.jsonl").open() as handle:
        texts = [json.loads(line)["text"] for line in handle]
    rows = [{"id": f"r{i}", "text": text} for i, text in zip(range(n), itertools.cycle(texts))]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def tiny_model(work: Path) -> Path:
    """The tests' tiny model, built with their own helpers so both measure the same thing."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import write_tiny_base, write_tiny_corpus
    from diplostance.train.finetune import TrainConfig, train

    out = work / "model"
    base = write_tiny_base(work / "base")
    corpus = write_tiny_corpus(work / "corpus.jsonl")
    train(TrainConfig(data=[corpus], out=out, base_model=base, epochs=2, learning_rate=1e-3, batch_size=8))
    return out


def timed(label: str, run: Callable[[], object], rows: int | None = None) -> None:
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    rate = f"{rows / seconds:10.0f} rows/s" if rows else ""
    print(f"{label:<32} {seconds:8.2f} s {rate}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--model", type=Path, help="model folder (default: build the tests' tiny model)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per engine; Spark's first is cold")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="spark-vs-local-") as tmp:
        work = Path(tmp)
        model = args.model or tiny_model(work)
        data = write_rows(work / "rows.parquet", args.rows)
        print(f"{args.rows} rows, model {model}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")

        def local() -> None:
            config = ScoreConfig(input=data, output=work / "local.parquet", progress=False)
            assert ScoreJob(StanceClassifier.from_pretrained(model, backend="onnx"), config).run().rows == args.rows

        def spark() -> None:
            assert score_files_with_spark(data, work / "spark", model, master="local[2]") == args.rows

        for run in range(args.repeats):
            timed(f"local ScoreJob, run {run + 1}", local, args.rows)
        timed("Spark session start", lambda: spark_session("local[2]", {"spark.ui.enabled": "false"}))
        for run in range(args.repeats):
            timed(f"Spark local[2], run {run + 1}" + (" (cold)" if run == 0 else ""), spark, args.rows)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
