"""Streaming readers for JSONL, CSV and Parquet that never drop a row.

Each reader yields one ``Record`` per input row, in order: its 1-based line (or row)
number, the row's columns as read, and either the text to score or the reason it cannot
be scored. A malformed JSON line, an undecodable byte sequence, a CSV record with an
unclosed quote or the wrong number of fields, a null or a number where text should be:
each becomes a Record with ``error`` set, never an exception and never a skipped row.
Only whitespace-only lines of a JSONL file are not rows (they are counted and reported).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    import pyarrow.parquet as pq

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""json.loads joins escaped pairs into one character, so a surrogate left in a string has no partner."""
MAX_CSV_FIELD_CHARS = 1_000_000
"""A quoted CSV field may span lines; past this many characters it is taken as an unclosed quote.
Far above any statement (the model reads the first MAX_TEXT_CHARS anyway), far below a whole file."""


class InputError(ValueError):
    """The input as a whole cannot be read (missing file, unknown format, no text column)."""


@dataclass
class Record:
    line: int
    columns: dict = field(default_factory=dict)
    text: str | None = None
    error: str | None = None


@dataclass
class ReadStats:
    """What a reader learned besides the records: blank lines skipped, declared columns."""

    blank_lines: int = 0
    columns: list[str] | None = None


COMPRESSIONS = (".gz", ".zst")


def compression(path: str | Path) -> str | None:
    """'.gz' (gzip) or '.zst' (Zstandard) when the name ends so, else None."""
    suffix = Path(path).suffix.lower()
    return suffix if suffix in COMPRESSIONS else None


def file_format(path: str | Path) -> str:
    """'jsonl', 'csv' or 'parquet' from the file extension; ``.jsonl.gz``/``.csv.gz`` are gzip-compressed,
    ``.jsonl.zst``/``.csv.zst`` Zstandard-compressed."""
    suffix = Path(path).suffix.lower()
    if compression(path):
        suffix = Path(Path(path).stem).suffix.lower()
        if suffix == ".parquet":
            raise InputError(f"{path}: Parquet compresses its own columns; drop the {compression(path)}")
    if suffix not in FORMATS:
        raise InputError(
            f"{path}: unsupported extension {suffix!r}; use .jsonl, .csv or .parquet (or .jsonl.gz, .csv.zst, ...)"
        )
    return FORMATS[suffix]


def open_binary(path: Path) -> BinaryIO:
    """The file's bytes, decompressed on the fly for ``.gz`` and ``.zst``."""
    kind = compression(path)
    if kind == ".gz":
        return gzip.open(path, "rb")
    if kind == ".zst":
        import zstandard

        return io.BufferedReader(zstandard.open(path, "rb"))  # buffered: readers iterate by line
    return path.open("rb")


def not_a_file(path: Path) -> str:
    """What ``path`` is when it is not a regular file, for the one-line error."""
    if path.is_dir():
        return "is a folder, not a file"
    if path.exists():
        return "is not a regular file (a pipe or device?); save the data to a file first"
    return "no such file"


def text_error(value: object, column: str) -> str | None:
    """Why ``value`` cannot be scored as text, or None if it can."""
    if value is None:
        return f"{column!r} is null"
    if not isinstance(value, str):
        return f"{column!r} is {type(value).__name__}, not a string"
    if not value.strip():
        return f"{column!r} is empty"
    return None


def _record(line: int, columns: dict, text_column: str | None) -> Record:
    if text_column is None:  # reading rows as they are (``show``), not for scoring
        return Record(line, columns)
    if text_column not in columns:
        return Record(line, columns, error=f"line {line}: missing {text_column!r} field")
    value = columns[text_column]
    problem = text_error(value, text_column)
    return Record(line, columns, value if problem is None else None, f"line {line}: {problem}" if problem else None)


def read_jsonl(path: Path, text_column: str | None, stats: ReadStats) -> Iterator[Record]:
    with open_binary(path) as handle:
        for line_no, raw in enumerate(handle, 1):
            if not raw.strip():
                stats.blank_lines += 1
                continue
            try:
                decoded = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")  # a BOM is not part of row 1
            except UnicodeDecodeError as error:
                yield Record(line_no, error=f"line {line_no}: undecodable bytes (not UTF-8: {error.reason})")
                continue
            try:
                value = json.loads(decoded)
            except json.JSONDecodeError as error:
                yield Record(line_no, error=f"line {line_no}: malformed JSON ({error.msg})")
                continue
            if not isinstance(value, dict):
                yield Record(line_no, error=f"line {line_no}: a JSON {type(value).__name__}, not an object")
                continue
            surrogate = next((k for k, v in value.items() if _has_lone_surrogate(k) or _has_lone_surrogate(v)), None)
            if surrogate is not None:
                yield Record(
                    line_no,
                    {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()},
                    error=f"line {line_no}: {_replace_surrogates(surrogate)!r} holds a lone surrogate "
                    "(a \\ud800-style escape that is not valid Unicode); shown as U+FFFD",
                )
                continue
            yield _record(line_no, value, text_column)


def _has_lone_surrogate(value: object) -> bool:
    """JSON may escape half of a UTF-16 pair ("\\ud800"); such a string cannot be tokenised or written as UTF-8."""
    if isinstance(value, str):
        return LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _replace_surrogates(value: object) -> object:
    """The value with every lone surrogate replaced by U+FFFD, so that the error row can be written."""
    if isinstance(value, str):
        return LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    return value


def _check_text_column(path: Path, text_column: str | None, names: list[str]) -> None:
    """A missing text column is a file-level problem: say so once, with the columns there are."""
    if text_column is not None and text_column not in names:
        raise InputError(f"{path}: no column {text_column!r} (columns: {', '.join(names)}); use --text-column")


def read_csv(path: Path, text_column: str | None, stats: ReadStats) -> Iterator[Record]:
    """Check the header now (so a bad file fails before any work starts), then stream the records.

    Records are what Python's ``csv`` module (RFC 4180, default dialect) reads: a quote inside an
    unquoted field is a literal character, a quoted field may span lines, and any line ending (LF,
    CRLF, CR) ends a record. Bytes that are not UTF-8 are kept as surrogate escapes so that they
    cost their own record only."""
    handle = io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(handle)
    try:
        header = _next_csv_record(reader)
    except csv.Error as error:
        handle.close()
        raise InputError(f"{path}: unreadable CSV header ({error})") from None
    if not header or any(LONE_SURROGATE.search(name) for name in header):
        handle.close()
        raise InputError(f"{path}: empty file or unreadable header")
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        handle.close()
        raise InputError(f"{path}: the header repeats column(s) {', '.join(map(repr, repeated))}")
    _check_text_column(path, text_column, header)
    stats.columns = header
    return _csv_records(handle, reader, header, text_column, stats)


def _next_csv_record(reader) -> list[str] | None:
    """The next record, or None at the end; csv.Error (a runaway quoted field) passes to the caller."""
    csv.field_size_limit(MAX_CSV_FIELD_CHARS)
    return next(reader, None)


def _csv_records(handle: io.TextIOBase, reader, header: list[str], text_column: str | None, stats: ReadStats):
    """One Record per CSV record, in order. A record the module cannot parse (a quoted field longer
    than MAX_CSV_FIELD_CHARS: in practice an unclosed quote) is an error row for the lines it took,
    and reading goes on after them."""
    with handle:
        while True:
            first = reader.line_num + 1
            try:
                fields = _next_csv_record(reader)
            except csv.Error as error:
                yield Record(
                    first, error=f"lines {first}-{reader.line_num}: unreadable CSV record ({error}; an unclosed quote?)"
                )
                continue
            if fields is None:
                return
            if not fields:
                stats.blank_lines += 1
                continue
            if any(LONE_SURROGATE.search(value) for value in fields):
                shown = dict(zip(header, map(_replace_surrogates, fields))) if len(fields) == len(header) else {}
                yield Record(first, shown, error=f"line {first}: undecodable bytes (not UTF-8; shown as U+FFFD)")
            elif len(fields) != len(header):
                yield Record(first, error=f"line {first}: expected {len(header)} fields, found {len(fields)}")
            else:
                yield _record(first, dict(zip(header, fields)), text_column)


def read_parquet(path: Path, text_column: str | None, stats: ReadStats) -> Iterator[Record]:
    """Open and check the schema now (so a corrupt file fails before any work starts), then stream the rows."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError...; the user needs one line
        raise InputError(f"{path}: not a readable Parquet file ({error})") from None
    _check_text_column(path, text_column, parquet.schema_arrow.names)
    stats.columns = list(parquet.schema_arrow.names)
    return _parquet_records(parquet, text_column)


def _parquet_records(parquet: pq.ParquetFile, text_column: str | None) -> Iterator[Record]:
    row = 0
    for batch in parquet.iter_batches(batch_size=4096):
        for columns in batch.to_pylist():
            row += 1
            yield _record(row, columns, text_column)


READERS = {"jsonl": read_jsonl, "csv": read_csv, "parquet": read_parquet}


def count_rows(path: str | Path) -> int | None:
    """The number of rows ``read_records`` will yield, for the progress bar's total and ETA: Parquet from
    its metadata, JSONL by counting non-blank lines, CSV by reading its records (one pass, a few
    seconds a gigabyte: small beside scoring). None where the file cannot be read that way."""
    path = Path(path)
    fmt = file_format(path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        if fmt == "jsonl":
            with open_binary(path) as handle:
                return sum(1 for line in handle if line.strip())
        return sum(1 for _ in read_csv(path, None, ReadStats()))
    except (OSError, EOFError, InputError):
        return None


def read_records(
    path: str | Path, text_column: str | None = "text", stats: ReadStats | None = None
) -> Iterator[Record]:
    """Records of ``path`` in input order, one per row. Raises InputError only for file-level problems,
    and for CSV and Parquet raises it here, before the first record is asked for. ``text_column=None``
    reads the rows as they are, with no text to score (``error`` only for rows that cannot be parsed)."""
    path = Path(path)
    reader = READERS[file_format(path)]
    if not path.is_file():
        raise InputError(f"{path}: {not_a_file(path)}")
    return reader(path, text_column, stats if stats is not None else ReadStats())
