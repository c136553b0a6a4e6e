"""Writers for scored rows: JSONL, CSV and Parquet, written as numbered parts that the
job joins at the end (so a killed run can resume from its last complete part).

Output columns are the input's columns followed by ``OUTPUT_COLUMNS``. CSV and Parquet
need one set of columns: they take the input's declared columns (a CSV header, a Parquet
schema, or for JSONL input the keys of the first part); values that cannot be stored in
them are reported once on stderr, never dropped silently.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from diplostance.model.labels import LABELS

from .records import compression, file_format

PROBABILITY_COLUMNS = tuple(f"p_{label}" for label in LABELS)
PARTY_COLUMNS = ("actor", "counterpart", "issue")
"""Whose stance, toward whom, on what (``infer.actors``, ``model.issues``)."""
OUTPUT_COLUMNS = ("stance", "confidence", *PROBABILITY_COLUMNS, *PARTY_COLUMNS, "truncated", "error")
"""``truncated``: the text had more word pieces than the model reads (its label rests on the first ones)."""
PASSAGE_COLUMNS = ("passage_index", "start", "end", "speaker", "passage")
"""Document mode: one output row per passage, located by character offsets into the input text."""
ABSTAINED_COLUMN = "abstained"
"""Added after OUTPUT_COLUMNS only when an abstention threshold (--min-confidence) is set."""
TOP_STANCE_COLUMN = "top_stance"
"""With --min-confidence: the model's own top label, so an abstained row stays apart from a none."""
TEXT_COLUMN_KEY = b"diplostance.text_column"
"""Parquet schema metadata naming the column of scored text, so ``show`` needs no --text-column."""


def _json_value(value: object) -> object:
    """Values JSON cannot hold as they are: NaN and infinities become null (JSON has no such numbers),
    bytes and dates from Parquet become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(_json_value(value), ensure_ascii=False)
    return str(value)


LINE_BREAK_ESCAPES = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
"""Characters that str.splitlines (and some JSONL readers) take for line ends: escaped, so one row stays one
line for every reader (JSON allows them raw inside strings; the escapes mean the same)."""
NAME_MAX = 255
"""Bytes in one file name on Linux and macOS file systems."""


def sidecar(path: Path, suffix: str) -> Path:
    """A hidden file beside ``path`` (``.<name>.<suffix>``): temporary output, lock, work folder. An output
    name too long to take the prefix and suffix gets a short stable stand-in (a hash of the name)."""
    name = f".{path.name}.{suffix}"
    if len(name.encode()) > NAME_MAX:
        name = f".{hashlib.sha256(path.name.encode()).hexdigest()[:16]}.{suffix}"
    return path.with_name(name)


@contextmanager
def removed_on_failure(tmp: Path) -> Iterator[Path]:
    """Yield ``tmp``; if writing it fails (a full disk, a lost mount), delete it before the error goes on,
    so a failed write never leaves half a file behind."""
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_part(rows: Sequence[dict], path: Path, fmt: str, columns: Sequence[str], header: bool) -> None:
    """Write one part file atomically (temporary name, fsync, rename)."""
    with removed_on_failure(sidecar(path, "tmp")) as tmp:
        _write_part(rows, tmp, fmt, columns, header)
        tmp.replace(path)


def _write_part(rows: Sequence[dict], tmp: Path, fmt: str, columns: Sequence[str], header: bool) -> None:
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(
            [{c: _parquet_value(row.get(c), c) for c in columns} for row in rows], schema=parquet_schema(columns)
        )
        pq.write_table(table, tmp)
    else:
        buffer = io.StringIO()
        if fmt == "jsonl":
            for row in rows:
                line = json.dumps({k: _json_value(v) for k, v in row.items()}, ensure_ascii=False)
                buffer.write(line.translate(LINE_BREAK_ESCAPES) + "\n")
        else:
            writer = csv.writer(buffer, lineterminator="\n")
            if header:
                writer.writerow(columns)
            writer.writerows([[_cell(row.get(c)) for c in columns] for row in rows])
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
    with tmp.open("rb+") as handle:
        os.fsync(handle.fileno())


def _parquet_value(value: object, column: str) -> object:
    if not _is_input_column(column):
        return value
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (list, dict, bool, int, float)):  # JSON text: numbers and structures read back
        return json.dumps(_json_value(value), ensure_ascii=False)
    return str(value)  # a date or timestamp as itself, not as a quoted JSON string


def parquet_schema(columns: Sequence[str]):
    """Input columns as strings (JSON for non-strings); output columns typed."""
    import pyarrow as pa

    types = {"stance": pa.string(), "confidence": pa.float64(), "error": pa.string(), ABSTAINED_COLUMN: pa.bool_()}
    types[TOP_STANCE_COLUMN] = pa.string()
    types["truncated"] = pa.bool_()
    types |= {c: pa.float64() for c in PROBABILITY_COLUMNS}
    types |= {"passage_index": pa.int64(), "start": pa.int64(), "end": pa.int64()}
    return pa.schema([(c, types.get(c, pa.string())) for c in columns])


# A CSV cell is a number only in the plain spellings a spreadsheet writes: no leading zeros ("007" is a
# code, not 7), no sign "+", no thousands separators, no "nan"/"inf" (both could be words).
INTEGER_CELL = r"^-?(0|[1-9][0-9]{0,17})$"
DECIMAL_CELL = r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]{1,3})?$"


def csv_column_types(parts: Sequence[Path], columns: Sequence[str]) -> dict:
    """The input columns of a CSV-fed Parquet output whose every non-empty cell, in every part, is an
    integer (-> int64) or a decimal number (-> float64); empty cells become nulls. Decided over the
    whole output, so a window never types a column that a later row contradicts."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    candidates = [c for c in columns if _is_input_column(c)]
    kinds = {c: {"int": True, "float": True, "any": False} for c in candidates}
    for part in parts:
        table = pq.read_table(part, columns=candidates)
        for column in candidates:
            values = pc.drop_null(table[column])
            values = values.filter(pc.not_equal(values, ""))
            if len(values) == 0:
                continue
            kinds[column]["any"] = True
            for kind, pattern in (("int", INTEGER_CELL), ("float", DECIMAL_CELL)):
                if kinds[column][kind]:
                    kinds[column][kind] = pc.all(pc.match_substring_regex(values, pattern)).as_py()
    return {
        column: pa.int64() if kind["int"] else pa.float64()
        for column, kind in kinds.items()
        if kind["any"] and (kind["int"] or kind["float"])
    }


def _is_input_column(column: str) -> bool:
    special = (ABSTAINED_COLUMN, TOP_STANCE_COLUMN)
    return column not in OUTPUT_COLUMNS and column not in PASSAGE_COLUMNS and column not in special


def _typed(table, types: dict):
    """``table`` with the numeric CSV columns cast (empty cells to null first)."""
    import pyarrow.compute as pc

    for column, kind in types.items():
        index = table.schema.get_field_index(column)
        cells = table[column]
        cells = pc.if_else(pc.equal(cells, ""), None, cells)
        table = table.set_column(index, column, pc.cast(cells, kind))
    return table


def join_parts(
    parts: Sequence[Path],
    out: Path,
    fmt: str,
    columns: Sequence[str],
    text_column: str | None = None,
    csv_input: bool = False,
) -> None:
    """Concatenate parts into ``out`` atomically: a temporary file in the same folder, fsync, rename.
    A Parquet output records ``text_column`` in its metadata (CSV and JSONL have nowhere to keep it) and,
    for CSV input, keeps the numeric columns numeric (``csv_column_types``). JSONL input keeps its values as
    JSON text: a JSON number and a JSON string of digits can no longer be told apart in the parts."""
    with removed_on_failure(sidecar(out, "tmp")) as tmp:
        _join_parts(parts, tmp, fmt, columns, text_column, compression(out), csv_input)
        tmp.replace(out)
    directory = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _join_parts(
    parts: Sequence[Path],
    tmp: Path,
    fmt: str,
    columns: Sequence[str],
    text_column: str | None,
    compress: str | None = None,
    csv_input: bool = False,
) -> None:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        types = csv_column_types(parts, columns) if csv_input else {}
        schema = parquet_schema(columns)
        for column, kind in types.items():
            schema = schema.set(schema.get_field_index(column), schema.field(column).with_type(kind))
        if text_column is not None:
            schema = schema.with_metadata({TEXT_COLUMN_KEY: text_column.encode()})
        with pq.ParquetWriter(tmp, schema) as writer:
            for part in parts:
                writer.write_table(_typed(pq.read_table(part), types).replace_schema_metadata(schema.metadata))
    else:
        with tmp.open("wb") as raw:
            target = _compressed(raw, compress)
            for part in parts:
                with part.open("rb") as source:
                    shutil.copyfileobj(source, target)
            if compress:
                target.close()
    with tmp.open("rb+") as handle:
        os.fsync(handle.fileno())


def _compressed(raw, kind: str | None):
    """A writer over ``raw`` that compresses as ``kind`` says ('.gz', '.zst' or None: as is). Both are
    deterministic (gzip with mtime=0, no name; zstd with a fixed level and no content size), so the same
    rows give the same bytes and a resumed run compares equal to an uninterrupted one."""
    if kind == ".gz":
        return gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
    if kind == ".zst":
        import zstandard

        return zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False)
    return raw


def recorded_text_column(path: Path) -> str | None:
    """The text column a scored Parquet file names in its metadata (None for other files and formats)."""
    if file_format(path) != "parquet":
        return None
    import pyarrow.parquet as pq

    value = (pq.read_schema(path).metadata or {}).get(TEXT_COLUMN_KEY)
    return value.decode() if value else None
