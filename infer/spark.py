"""Scoring on Apache Spark: the same rows and output columns as ``diplostance score``, at cluster scale.

    from diplostance.infer.spark import score_dataframe
    scored = score_dataframe(spark.read.parquet("statements/"), "/shared/models/diplostance")

Design, and why:

- Rows travel to the Python workers as Arrow record batches (``mapInArrow``, the Arrow
  sibling of ``mapInPandas``). The local Parquet reader turns Arrow batches into Python
  values with ``to_pylist()``; doing the same here keeps the bad-input rule identical.
  Going through pandas would not: pandas 3 turns a null string into NaN (a float), and
  integer columns with nulls into floats on their way back to Spark.
- Tasks carry the model folder's path, never the weights: each Python worker loads the
  classifier on its first batch and keeps it in a module-level cache, so a model is
  loaded once per worker process (Spark reuses workers across tasks by default,
  ``spark.python.worker.reuse``), not once per row, batch or task.
- Each worker runs the model on ``threads`` CPU threads, 1 by default. Spark already runs
  one worker per executor core; ONNX Runtime and torch default to one thread per core,
  so ``executor cores x threads`` would exceed the machine's cores and the workers would
  slow each other down.
- Bad input follows ``records.text_error`` and scored rows ``columns.scored_columns``, so
  Spark output equals local output. Two differences: Spark rows come in no particular
  order, and ``error`` has no ``line N:`` prefix (a distributed row has no line number).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pyarrow as pa
from diplostance.model.classifier import check_model_folder
from diplostance.model.paths import default_model_dir

from .backends import BACKENDS
from .classifier import DEFAULT_BACKEND, DEFAULT_BATCH_SIZE, StanceClassifier
from .job import check_output
from .records import InputError, file_format, text_error
from .writers import ABSTAINED_COLUMN, OUTPUT_COLUMNS, TOP_STANCE_COLUMN, parquet_schema

try:
    import pandas  # noqa: F401  (PySpark's Arrow UDFs refuse to run without it; fail here, with the fix)
    from pyspark.errors import AnalysisException
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.sql.types import StructType
except ImportError as error:
    raise ImportError("scoring on Spark needs PySpark 4 and pandas: pip install 'diplostance[spark]'") from error

DEFAULT_MASTER = "local[2]"
DEFAULT_THREADS = 1
SESSION_DEFAULTS = {
    # Rows per Arrow batch handed to a worker: one window of the local job. Enough rows that
    # the per-batch cost (Arrow conversion, a classifier call) vanishes, and that the torch
    # backend's sort-by-length batching has as many rows to group as locally; few enough
    # to keep a worker's memory small.
    "spark.sql.execution.arrow.maxRecordsPerBatch": "2048",
}


@dataclass(frozen=True)
class _Task:
    """What a Python worker needs to score batches. Plain values only, so the pickled task stays tiny."""

    model_dir: str
    backend: str
    batch_size: int
    threads: int
    text_column: str
    min_confidence: float | None
    speaker_column: str | None = None


def output_schema(min_confidence: float | None = None) -> pa.Schema:
    """The columns added to each row, typed as in local Parquet output (``abstained`` with a threshold)."""
    schema = parquet_schema(OUTPUT_COLUMNS)
    if min_confidence is None:
        return schema
    return schema.append(pa.field(ABSTAINED_COLUMN, pa.bool_())).append(pa.field(TOP_STANCE_COLUMN, pa.string()))


def _local_model_dir(model_dir: str) -> str:
    """The folder as this worker sees it: the path itself, or a folder shipped with ``--archives``/``addArchive``."""
    if os.path.isdir(model_dir):
        return model_dir
    from pyspark import SparkFiles

    shipped = SparkFiles.get(model_dir)
    return shipped if os.path.isdir(shipped) else model_dir  # from_pretrained then names the missing folder


@functools.lru_cache(maxsize=4)
def _classifier(model_dir: str, backend: str, batch_size: int, threads: int) -> StanceClassifier:
    """The worker's classifier, loaded on first use: loading takes seconds, a batch milliseconds."""
    # The fast tokenizer's thread pool would otherwise take every core of the machine too.
    os.environ.setdefault("RAYON_NUM_THREADS", str(threads))
    return StanceClassifier.from_pretrained(
        _local_model_dir(model_dir), backend=backend, batch_size=batch_size, threads=threads
    )


def _score_batches(task: _Task, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Runs in the Python workers: each input batch comes back with the output columns appended."""
    outputs = output_schema(task.min_confidence)
    unscored = dict.fromkeys(outputs.names)
    for batch in batches:
        texts = batch.column(task.text_column).to_pylist()
        problems = [text_error(text, task.text_column) for text in texts]
        valid = [i for i, problem in enumerate(problems) if problem is None]
        classifier = _classifier(task.model_dir, task.backend, task.batch_size, task.threads)
        speakers = batch.column(task.speaker_column).to_pylist() if task.speaker_column else [None] * batch.num_rows
        scored_rows = classifier.score_rows(
            [texts[i] for i in valid], [speakers[i] for i in valid], task.min_confidence
        )
        scored = dict(zip(valid, scored_rows))
        rows = [scored[i] if i in scored else unscored | {"error": problems[i]} for i in range(batch.num_rows)]
        added = pa.RecordBatch.from_pylist(rows, schema=outputs)
        yield pa.RecordBatch.from_arrays([*batch.columns, *added.columns], schema=pa.schema([*batch.schema, *outputs]))


def score_dataframe(
    df: DataFrame,
    model_dir: str | Path | None,
    *,
    text_column: str = "text",
    backend: str = DEFAULT_BACKEND,
    batch_size: int = DEFAULT_BATCH_SIZE,
    min_confidence: float | None = None,
    threads: int = DEFAULT_THREADS,
    speaker_column: str | None = None,
) -> DataFrame:
    """``df`` with the columns of ``diplostance score`` appended; every row is kept (bad text: ``error`` set).

    ``model_dir`` must be readable by every executor: a path on shared storage, or the
    name of an archive shipped with ``--archives``/``SparkContext.addArchive`` (see
    the README, "Scoring on Spark"); a name that is also a folder on the driver means that folder. ``None``
    means the default model folder. Lazy, like any transformation: the model is loaded by
    the workers when an action runs.
    """
    if text_column not in df.columns:
        raise InputError(f"no column {text_column!r} (columns: {', '.join(df.columns)}); choose the text column")
    if speaker_column is not None and speaker_column not in df.columns:
        raise InputError(f"no column {speaker_column!r} for speaker_column (columns: {', '.join(df.columns)})")
    outputs = output_schema(min_confidence)
    clash = [c for c in df.columns if c in outputs.names]
    if clash:
        raise InputError(f"input already has output column {clash[0]!r}; rename it first")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be between 0 and 1, got {min_confidence}")
    folder = str(model_dir if model_dir is not None else default_model_dir())
    if os.path.isdir(folder):
        # Where the driver sees the folder: refuse a bad one now, in one line, rather than in
        # every task; and make it absolute, since a worker's working directory is not the driver's.
        check_model_folder(folder)
        folder = os.path.abspath(folder)
    task = _Task(
        model_dir=folder,
        backend=backend,
        batch_size=batch_size,
        threads=threads,
        text_column=text_column,
        min_confidence=min_confidence,
        speaker_column=speaker_column,
    )
    schema = StructType([*df.schema.fields, *from_arrow_schema(outputs).fields])
    return df.mapInArrow(functools.partial(_score_batches, task), schema)


def spark_session(master: str | None = DEFAULT_MASTER, config: Mapping[str, str] | None = None) -> SparkSession:
    """The active SparkSession or a new one, with ``SESSION_DEFAULTS`` and ``config`` applied.

    ``master=None`` leaves the master to ``spark-submit`` or an existing session. With a
    ``local`` master the workers default to this interpreter, the one with diplostance
    installed (PySpark would otherwise start whatever ``python3`` is first on PATH).
    """
    if master is not None and master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("diplostance")
    if master is not None:
        builder = builder.master(master)
    for key, value in {**SESSION_DEFAULTS, **(config or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def read_input(spark: SparkSession, path: str | Path) -> DataFrame:
    """Parquet files or folders (no extension: a folder), ``.csv`` with a header, ``.jsonl``/``.ndjson``.

    CSV is read as the local reader reads it (Python's csv dialect): quotes doubled to
    escape them, quoted fields may span lines, every column a string.
    """
    name = str(path)
    fmt = file_format(name) if PurePosixPath(name).suffix else "parquet"
    try:
        if fmt == "csv":
            return spark.read.csv(name, header=True, multiLine=True, escape='"')
        if fmt == "jsonl":
            return spark.read.json(name)
        return spark.read.parquet(name)
    except AnalysisException as error:  # a missing path, say: one line for the CLI, not a JVM trace
        raise InputError(f"{name}: {str(error).splitlines()[0]}") from None


def score_files_with_spark(
    input_path: str | Path,
    output_path: str | Path,
    model_dir: str | Path | None,
    *,
    master: str | None = DEFAULT_MASTER,
    text_column: str = "text",
    backend: str = DEFAULT_BACKEND,
    batch_size: int = DEFAULT_BATCH_SIZE,
    min_confidence: float | None = None,
    threads: int = DEFAULT_THREADS,
) -> int:
    """Score ``input_path`` into a Parquet folder at ``output_path`` (replaced); return the rows written.

    Starts a SparkSession on ``master`` or reuses the active one (which it leaves running).
    """
    check_output(input_path, output_path, folder=True)
    spark = spark_session(master)
    statements = read_input(spark, input_path)
    cores = spark.sparkContext.defaultParallelism
    if statements.rdd.getNumPartitions() < cores:  # one small file is one partition: spread it over the cores
        statements = statements.repartition(cores)
    scored = score_dataframe(
        statements,
        model_dir,
        text_column=text_column,
        backend=backend,
        batch_size=batch_size,
        min_confidence=min_confidence,
        threads=threads,
    )
    scored.write.mode("overwrite").parquet(str(output_path))
    return spark.read.parquet(str(output_path)).count()  # from the Parquet footers: no second scoring pass
