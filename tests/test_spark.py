"""Scoring on Spark gives what `diplostance score` gives, row for row.

The local side is the Python ``ScoreJob`` with the ONNX backend, as the CLI runs it. One
local[2] session serves the module: starting Spark takes about ten seconds, and each
worker's first batch a few more (importing transformers, loading the model).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'diplostance[spark]'")

from diplostance.infer import spark as spark_scoring
from diplostance.infer.classifier import StanceClassifier
from diplostance.infer.job import ScoreConfig, ScoreJob
from diplostance.infer.records import InputError
from diplostance.infer.spark import read_input, score_dataframe, score_files_with_spark, spark_session
from diplostance.infer.writers import OUTPUT_COLUMNS
from diplostance.model.classifier import ModelFolderError
from pyspark import cloudpickle
from pyspark.sql.functions import lit

if shutil.which("java") is None:
    pytest.skip("no `java` on PATH: Spark needs a Java 17+ runtime", allow_module_level=True)

pytestmark = pytest.mark.filterwarnings(
    # PySpark 4 warns about pandas 3 on every vectorised UDF; these go through Arrow, not pandas.
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)

ROOT = Path(__file__).resolve().parent.parent
TEST_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.driver.memory": "1g",
    # Small Arrow batches, so each worker scores many batches with one loaded model.
    "spark.sql.execution.arrow.maxRecordsPerBatch": "64",
}
BAD_TEXTS = [None, "", "   ", "\t\n"]
N_ROWS = 300


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]", TEST_CONF)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def statements(tmp_path_factory) -> Path:
    """Corpus texts with a bad one every 40th row (each kind twice), and an int column with nulls."""
    with (ROOT / "data" / "corpus.jsonl").open() as handle:
        texts = [json.loads(line)["text"] for _, line in zip(range(N_ROWS), handle)]
    rows = [
        {
            "id": f"s{i:04d}",
            "text": BAD_TEXTS[i // 40 % len(BAD_TEXTS)] if i % 40 == 7 else text,
            "n": None if i % 3 == 0 else i,
        }
        for i, text in enumerate(texts)
    ]
    schema = pa.schema([("id", pa.string()), ("text", pa.string()), ("n", pa.int64())])
    path = tmp_path_factory.mktemp("spark") / "statements.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def score_locally(model: Path, statements: Path, out: Path, min_confidence: float | None = None) -> dict[str, dict]:
    """`diplostance score statements --out out.jsonl`, rows by id."""
    config = ScoreConfig(input=statements, output=out, min_confidence=min_confidence, progress=False)
    ScoreJob(StanceClassifier.from_pretrained(model), config).run()  # the default backend, as Spark
    return {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}


@pytest.fixture(scope="module")
def local(tiny_model, statements, tmp_path_factory) -> dict[str, dict]:
    return score_locally(tiny_model, statements, tmp_path_factory.mktemp("local") / "scored.jsonl")


def assert_matches_local(rows: list[dict], local: dict[str, dict]) -> None:
    """Every row once, with the local output columns; local errors start with 'line N: ', which Spark cannot know."""
    assert sorted(row["id"] for row in rows) == sorted(local)
    compared = [c for c in (*OUTPUT_COLUMNS, "abstained") if c in rows[0]]
    for row in rows:
        got = {c: row[c] for c in compared}
        if got["error"] is not None:
            got["error"] = f"line {int(row['id'][1:]) + 1}: {got['error']}"
        assert got == {c: local[row["id"]].get(c) for c in compared}, row["id"]


def test_score_dataframe_matches_local_score(spark, statements, tiny_model, local):
    df = spark.read.parquet(str(statements)).repartition(3)
    scored = score_dataframe(df, tiny_model)
    assert scored.columns == ["id", "text", "n", *OUTPUT_COLUMNS]
    rows = [row.asDict() for row in scored.collect()]
    assert_matches_local(rows, local)
    assert sum(row["error"] is not None for row in rows) == 2 * len(BAD_TEXTS)
    inputs = {row["id"]: row for row in pq.read_table(statements).to_pylist()}
    assert all({c: row[c] for c in ("id", "text", "n")} == inputs[row["id"]] for row in rows)  # ints stay ints


def test_model_is_loaded_once_per_worker(spark, statements, tiny_model):
    scored = score_dataframe(spark.read.parquet(str(statements)).repartition(4), tiny_model)
    assert scored.where("error is null").count() == N_ROWS - 2 * len(BAD_TEXTS)

    def cache_of_this_worker(batches):
        for _ in batches:
            pass
        info = spark_scoring._classifier.cache_info()
        yield pa.RecordBatch.from_pylist([{"pid": os.getpid(), "loads": info.misses, "models": info.currsize}])

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import this test module
    try:
        probe = spark.range(4).repartition(4).mapInArrow(cache_of_this_worker, "pid long, loads long, models long")
        workers = [row.asDict() for row in probe.collect()]
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert any(w["loads"] for w in workers), workers  # the probe reached workers that scored
    assert all(w["loads"] == w["models"] for w in workers), workers  # each model loaded once there


def test_task_carries_the_model_path_not_the_weights(spark, statements, tiny_model, monkeypatch):
    df = spark.read.parquet(str(statements))
    tasks = []
    monkeypatch.setattr(type(df), "mapInArrow", lambda _df, func, _schema: tasks.append(func))
    score_dataframe(df, tiny_model)
    payload = cloudpickle.dumps(tasks[0])
    assert str(tiny_model.resolve()).encode() in payload
    assert len(payload) < 2_000 < (tiny_model / "model.onnx").stat().st_size


def test_score_files_with_spark_writes_parquet(spark, statements, tiny_model, local, tmp_path):
    # A threshold between two distinct confidences in the middle, so that some rows abstain and some do not
    # (the tiny model gives many rows the same 4-decimal confidence: median + epsilon could lie above them all).
    confidences = sorted({row["confidence"] for row in local.values() if row["error"] is None})
    assert len(confidences) >= 2, confidences
    middle = len(confidences) // 2
    threshold = (confidences[middle - 1] + confidences[middle]) / 2
    expected = score_locally(tiny_model, statements, tmp_path / "local.jsonl", threshold)
    assert {row.get("abstained") for row in expected.values()} == {True, False, None}
    out = tmp_path / "scored"
    assert score_files_with_spark(statements, out, tiny_model, min_confidence=threshold) == N_ROWS
    assert_matches_local(pq.read_table(out).to_pylist(), expected)


def test_reads_csv_and_jsonl_as_the_local_readers_do(spark, tiny_model, tmp_path):
    texts = ['We said "no" twice.', "A statement\nover two lines.", "", "Talks can resume, once sanctions go."]
    csv_path = tmp_path / "statements.csv"
    with csv_path.open("w", newline="") as handle:
        csv.writer(handle).writerows([("id", "text"), *((f"c{i}", text) for i, text in enumerate(texts))])
    assert score_files_with_spark(csv_path, tmp_path / "from_csv", tiny_model) == len(texts)
    rows = sorted(pq.read_table(tmp_path / "from_csv").to_pylist(), key=lambda row: row["id"])
    assert [row["text"] or "" for row in rows] == texts  # Spark reads an empty CSV field as null
    assert [row["error"] is not None for row in rows] == [False, False, True, False]

    jsonl_path = tmp_path / "statements.jsonl"
    jsonl_path.write_text('{"id": "j0", "text": "We agree."}\n{"id": "j1", "text": null}\n{"id": "j2", "text":\n')
    assert score_files_with_spark(jsonl_path, tmp_path / "from_jsonl", tiny_model) == 3  # the malformed line is kept
    errors = {row["id"]: row["error"] for row in pq.read_table(tmp_path / "from_jsonl").to_pylist()}
    assert errors.pop("j0") is None
    assert errors == {"j1": "'text' is null", None: "'text' is null"}


def test_refuses_bad_input_before_any_task(spark, statements, tiny_model, tmp_path):
    df = spark.read.parquet(str(statements))
    with pytest.raises(InputError, match="no column 'body'"):
        score_dataframe(df, tiny_model, text_column="body")
    with pytest.raises(InputError, match="output column 'stance'"):
        score_dataframe(df.withColumn("stance", lit("x")), tiny_model)
    with pytest.raises(ModelFolderError, match="no model.safetensors"):
        score_dataframe(df, tmp_path)
    with pytest.raises(InputError, match="overwrite the input"):
        score_files_with_spark(statements, statements, tiny_model)
    with pytest.raises(InputError, match="missing.parquet"):
        read_input(spark, tmp_path / "missing.parquet")


def test_model_shipped_as_an_archive(spark, statements, tiny_model, local, tmp_path):
    """README, Scoring on Spark: executors without the folder get it with --archives (here SparkContext.addArchive)."""
    archive = shutil.make_archive(str(tmp_path / "diplostance-model"), "zip", root_dir=tiny_model)
    spark.sparkContext.addArchive(f"{archive}#shipped-model")
    rows = [row.asDict() for row in score_dataframe(spark.read.parquet(str(statements)), "shipped-model").collect()]
    assert_matches_local(rows, local)


def test_cli_engine_spark_writes_a_parquet_folder(tiny_model, tmp_path, spark):
    from diplostance.infer.cli import app
    from typer.testing import CliRunner

    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": ["a", "b", "c"], "text": ["We reject it.", None, "We welcome it."]}), source)
    out = tmp_path / "scored"
    result = CliRunner().invoke(
        app, ["score", str(source), "--out", str(out), "--model", str(tiny_model), "--engine", "spark"]
    )
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in pq.read_table(out).to_pylist()}
    assert set(rows) == {"a", "b", "c"} and rows["b"]["error"] == "'text' is null" and rows["a"]["stance"]
